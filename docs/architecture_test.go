package docs

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestPackageMap: every package of the module has its line in the package
// map of architecture.md, and the map names no package that is gone.
func TestPackageMap(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}", "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/ifstat-mqtt/ifstat-mqtt/"
	md, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	page := string(md)
	_, packageMap, ok := strings.Cut(page, "## Package map")
	if !ok {
		t.Fatal("architecture.md has no package map")
	}
	// A table row: | `pkg` | or | `pkg`, `…/sub` |; "*" stands for any
	// last element.
	rowRE := regexp.MustCompile("(?m)^\\| (`[^|]*`) \\|")
	nameRE := regexp.MustCompile("`([^`]+)`")
	var named []string
	for _, row := range rowRE.FindAllStringSubmatch(packageMap, -1) {
		prev := ""
		for _, m := range nameRE.FindAllStringSubmatch(row[1], -1) {
			name := m[1]
			if rest, ok := strings.CutPrefix(name, "…/"); ok && prev != "" {
				name = prev + "/" + rest
			}
			named = append(named, name)
			prev = name
		}
	}
	covers := func(name, pkg string) bool {
		if base, ok := strings.CutSuffix(name, "/*"); ok {
			return strings.HasPrefix(pkg, base+"/") && !strings.Contains(strings.TrimPrefix(pkg, base+"/"), "/")
		}
		return name == pkg
	}
	pkgs := strings.Fields(string(out))
	for _, p := range pkgs {
		p = strings.TrimPrefix(p, module)
		found := false
		for _, n := range named {
			found = found || covers(n, p)
		}
		if !found {
			t.Errorf("package %s has no line in the package map of docs/architecture.md", p)
		}
	}
	for _, n := range named {
		found := false
		for _, p := range pkgs {
			found = found || covers(n, strings.TrimPrefix(p, module))
		}
		if !found {
			t.Errorf("the package map names %s, which is no package", n)
		}
	}
}

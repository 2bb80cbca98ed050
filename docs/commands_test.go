package docs

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/config"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/proctest"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/publisher"
)

// commandPages are the pages whose sh blocks are checked: what a reader
// types.
var commandPages = []string{"../README.md", "install.md", "troubleshooting.md"}

// shCommand is one simple command of an sh block: its words with quotes
// removed, leading VAR=value assignments included.
type shCommand struct {
	page  string
	line  int
	words []string
}

func (c shCommand) String() string {
	return fmt.Sprintf("%s:%d: %s", c.page, c.line, strings.Join(c.words, " "))
}

// shCommands splits the ```sh blocks of a Markdown page into simple
// commands. It is a small shell lexer, enough for documentation: quotes,
// backslash-newline, comments and the operators ; | || & && ( ) separate
// or group words; $(…) stays inside its word.
func shCommands(page, text string) ([]shCommand, error) {
	var cmds []shCommand
	in := false
	var block strings.Builder
	start := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case !in && strings.TrimSpace(l) == "```sh":
			in, start = true, n+1
			block.Reset()
		case in && strings.TrimSpace(l) == "```":
			in = false
			c, err := lexSh(page, start, block.String())
			if err != nil {
				return nil, err
			}
			cmds = append(cmds, c...)
		case in:
			block.WriteString(l + "\n")
		}
	}
	if in {
		return nil, fmt.Errorf("%s:%d: sh block not closed", page, start-1)
	}
	return cmds, nil
}

func lexSh(page string, line int, s string) ([]shCommand, error) {
	var cmds []shCommand
	var words []string
	var word strings.Builder
	inWord := false
	cmdLine := line
	endWord := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	endCmd := func() {
		endWord()
		if len(words) > 0 {
			cmds = append(cmds, shCommand{page, cmdLine, words})
		}
		words = nil
		cmdLine = line
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i++
			line++
		case c == '\\' && i+1 < len(s):
			word.WriteByte(s[i+1])
			inWord = true
			i++
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("%s:%d: unterminated %c", page, line, c)
			}
			word.WriteString(s[i+1 : i+1+j])
			line += strings.Count(s[i+1:i+1+j], "\n")
			inWord = true
			i += j + 1
		case c == '$' && i+1 < len(s) && s[i+1] == '(':
			j := strings.IndexByte(s[i:], ')')
			if j < 0 {
				return nil, fmt.Errorf("%s:%d: unterminated $(", page, line)
			}
			word.WriteString(s[i : i+j+1])
			inWord = true
			i += j
		case c == '#' && !inWord:
			for i < len(s) && s[i] != '\n' {
				i++
			}
			i--
		case c == '\n':
			endCmd()
			line++
			cmdLine = line
		case c == ';' || c == '|' || c == '&' || c == '(' || c == ')':
			endCmd()
		case c == ' ' || c == '\t':
			endWord()
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	endCmd()
	return cmds, nil
}

func TestShCommands(t *testing.T) {
	t.Parallel()
	md := "x\n```sh\nA=1 'b c' \"d\"e # note\nf | g && h; i \\\n  j\nk \"$(cat /x)\" &\n```\n```yaml\nno: sh\n```\n"
	got, err := shCommands("p", md)
	if err != nil {
		t.Fatal(err)
	}
	want := []shCommand{
		{"p", 3, []string{"A=1", "b c", "de"}},
		{"p", 4, []string{"f"}}, {"p", 4, []string{"g"}}, {"p", 4, []string{"h"}},
		{"p", 4, []string{"i", "j"}},
		{"p", 6, []string{"k", "$(cat /x)"}},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(shCommand{})); diff != "" {
		t.Errorf("shCommands (-want +got):\n%s", diff)
	}
	if _, err := shCommands("p", "```sh\necho 'x\n```\n"); err == nil {
		t.Error("unterminated quote: no error")
	}
}

// knownVariables is every IFSTAT_ variable the config structs define.
func knownVariables(t *testing.T) map[string]bool {
	t.Helper()
	known := make(map[string]bool)
	for _, spec := range []any{&config.Common{}, &publisher.Config{}, &bridge.Config{}} {
		vars, err := variables(spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vars {
			known[v.Key] = true
		}
	}
	return known
}

var (
	variableRE = regexp.MustCompile(`IFSTAT_[A-Z0-9_]+`)
	// targetsRE finds a script's list of targets, all=(…).
	targetsRE = regexp.MustCompile(`(?m)^all=\(([^)]*)\)`)
	// placeholder marks a word that stands for something (a version, an
	// architecture, a glob, a variable's value): not checked as a path.
	placeholder = regexp.MustCompile(`[<>…*$]`)
)

// scriptTargets reads the all=(…) list of a repository script.
func scriptTargets(t *testing.T, script string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", script))
	if err != nil {
		t.Fatal(err)
	}
	m := targetsRE.FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s: no all=(…) list of targets", script)
	}
	return strings.Fields(string(m[1]))
}

// repoPath maps a word to the repository file it names, or "" when it
// names none: a path under one of the repository's top-level entries, or
// under install/ (the release archive's copy of packaging/).
func repoPath(word string, top map[string]bool) string {
	w := strings.TrimPrefix(word, "./")
	if rest, ok := strings.CutPrefix(w, "install/"); ok {
		return path.Join("packaging", rest)
	}
	first, _, _ := strings.Cut(w, "/")
	if !top[first] || first == "." || first == ".." {
		return ""
	}
	return path.Clean(w)
}

// docChecker checks the commands of pages against the repository.
type docChecker struct {
	top            map[string]bool // the repository's top-level entries
	known          map[string]bool // IFSTAT_ variables
	agentTargets   []string        // scripts/build-agents.sh: all=(…) of scripts/lib.sh
	releaseTargets []string        // scripts/release.sh: the same list
	// help returns the -h output of ifstat-agent or ifstat-bridge, or ""
	// when it is not available (-short): flags are then not checked.
	help     func(prog string) string
	problems []string
	commands int
}

func newDocChecker(t *testing.T, help func(string) string) *docChecker {
	t.Helper()
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	top := make(map[string]bool)
	for _, e := range entries {
		if e.Name() != ".git" && e.Name() != "dist" && e.Name() != "bin" {
			top[e.Name()] = true
		}
	}
	return &docChecker{
		top: top, known: knownVariables(t), help: help,
		agentTargets:   scriptTargets(t, "scripts/lib.sh"),
		releaseTargets: scriptTargets(t, "scripts/lib.sh"),
	}
}

func (k *docChecker) errorf(c shCommand, format string, args ...any) {
	k.problems = append(k.problems, c.String()+": "+fmt.Sprintf(format, args...))
}

// program names a word as ifstat-agent or ifstat-bridge, or "".
func program(word string, built map[string]string) string {
	if p, ok := built[word]; ok {
		return p
	}
	switch base := path.Base(word); {
	case strings.Contains(word, "/init.d/"): // OpenWrt's init script
		return ""
	case base == "ifstat-agent" || strings.HasPrefix(base, "ifstat-agent-linux-"):
		return "ifstat-agent"
	case base == "ifstat-bridge" || base == "ifstat.plugin":
		return "ifstat-bridge"
	}
	return ""
}

// checkPage checks the commands of one page's sh blocks.
func (k *docChecker) checkPage(page string) error {
	raw, err := os.ReadFile(page)
	if err != nil {
		return err
	}
	cmds, err := shCommands(page, string(raw))
	if err != nil {
		return err
	}
	// go build -o NAME ./cmd/X: NAME runs as X further down.
	built := map[string]string{}
	for _, c := range cmds {
		k.checkWords(c)
		w := stripWrappers(c.words)
		if len(w) == 0 {
			continue
		}
		k.commands++
		name, args := w[0], w[1:]
		if name == "go" && len(args) >= 1 && (args[0] == "run" || args[0] == "build") {
			pkg, out, i := "", "", 1
			for ; i < len(args); i++ {
				if args[i] == "-o" && i+1 < len(args) {
					out = args[i+1]
					i++
					continue
				}
				if strings.HasPrefix(args[i], "./cmd/") {
					pkg = path.Base(args[i])
					i++
					break
				}
			}
			if pkg == "" {
				continue
			}
			if args[0] == "build" {
				if out != "" {
					built[out], built["./"+out] = pkg, pkg
				}
				continue
			}
			name, args = pkg, args[i:]
		}
		if prog := program(name, built); prog != "" {
			k.checkProgram(c, name, prog, args, built)
			continue
		}
		if rel := repoPath(name, k.top); strings.HasSuffix(rel, ".sh") {
			k.checkScript(c, rel, args)
		}
	}
	return nil
}

// checkWords checks what any word of a command names: IFSTAT_ variables,
// repository paths, agent builds.
func (k *docChecker) checkWords(c shCommand) {
	for _, word := range c.words {
		for _, v := range variableRE.FindAllString(word, -1) {
			if !k.known[v] {
				k.errorf(c, "%s is not a variable of any config struct", v)
			}
		}
		if placeholder.MatchString(word) {
			continue
		}
		if rel := repoPath(word, k.top); rel != "" {
			if _, err := os.Stat(filepath.Join("..", rel)); err != nil {
				k.errorf(c, "%s: no %s in the repository", word, rel)
			}
		}
		if base, ok := strings.CutPrefix(path.Base(word), "ifstat-agent-linux-"); ok && !slices.Contains(k.agentTargets, base) {
			k.errorf(c, "%s: scripts/build-agents.sh builds no target %q (it builds %v)", word, base, k.agentTargets)
		}
	}
}

// checkProgram checks a run of ifstat-agent or ifstat-bridge: where the
// binary comes from, and its flags and modes against its -h output.
func (k *docChecker) checkProgram(c shCommand, name, prog string, args []string, built map[string]string) {
	if strings.HasPrefix(name, "./") && repoPath(name, k.top) == "" {
		_, isBuilt := built[name]
		inArchive := name == "./ifstat-agent" || name == "./ifstat-bridge"
		if !isBuilt && !inArchive && !strings.HasPrefix(path.Base(name), "ifstat-agent-linux-") {
			k.errorf(c, "%s is built nowhere on the pages, and no release archive holds it", name)
		}
	}
	h := k.help(prog)
	if h == "" {
		return
	}
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case strings.HasPrefix(a, "-"):
			f, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			// flag's PrintDefaults: "  -name type" for a flag with a value.
			m := regexp.MustCompile(`(?m)^\s+-` + regexp.QuoteMeta(f) + `( \S+)?$`).FindStringSubmatch(h)
			switch {
			case m == nil:
				k.errorf(c, "%s has no flag -%s in its -h output", prog, f)
			case m[1] != "" && !hasValue:
				i++ // its value
			}
		case isNumber(a): // Netdata's update-every
		case !regexp.MustCompile(`\b` + regexp.QuoteMeta(args[i]) + `\b`).MatchString(h):
			k.errorf(c, "%s has no mode %q in its -h output", prog, args[i])
		}
	}
}

// checkScript checks the arguments of a repository script: flags must
// appear in it, targets of build-agents.sh and release.sh in their lists.
func (k *docChecker) checkScript(c shCommand, rel string, args []string) {
	script, err := os.ReadFile(filepath.Join("..", rel))
	if err != nil {
		return // reported by checkWords
	}
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "-"):
			if !strings.Contains(string(script), a) {
				k.errorf(c, "%s does not know %s", rel, a)
			}
		case rel == "scripts/build-agents.sh" && !slices.Contains(k.agentTargets, a):
			k.errorf(c, "%s has no target %q (%v)", rel, a, k.agentTargets)
		case rel == "scripts/release.sh" && !slices.Contains(k.releaseTargets, a):
			k.errorf(c, "%s has no target %q (%v)", rel, a, k.releaseTargets)
		}
	}
}

// TestDocCommands checks every command in the sh blocks of the README,
// install.md and troubleshooting.md against the repository: each path
// into the repository (or into a release archive's install/) exists; each
// IFSTAT_ variable is one the config structs define; each flag and mode
// given to ifstat-agent or ifstat-bridge is in that program's -h output
// (skipped with -short, which does not build them); each flag given to a
// repository script appears in the script and each target is in its
// all=(…) list; each ./program run is a file of the repository, a binary
// the pages build (go build -o, scripts/build-agents.sh), or one the
// release archive holds.
func TestDocCommands(t *testing.T) {
	t.Parallel()
	help := make(map[string]string)
	k := newDocChecker(t, func(prog string) string {
		if testing.Short() {
			return ""
		}
		if h, ok := help[prog]; ok {
			return h
		}
		bins := proctest.BuildCommands(t)
		bin := bins.Agent
		if prog == "ifstat-bridge" {
			bin = bins.Bridge
		}
		out, err := exec.CommandContext(t.Context(), bin, "-h").CombinedOutput()
		if err != nil {
			t.Fatalf("%s -h: %v\n%s", prog, err, out)
		}
		help[prog] = string(out)
		return help[prog]
	})
	for _, page := range commandPages {
		if err := k.checkPage(page); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range k.problems {
		t.Error(p)
	}
	if k.commands < 40 {
		t.Errorf("only %d commands found in %v: is the sh block parser broken?", k.commands, commandPages)
	}
}

// TestDocCheckerCatches feeds the checker a page of wrong commands, with
// canned -h outputs, and wants each reported.
func TestDocCheckerCatches(t *testing.T) {
	t.Parallel()
	help := map[string]string{
		"ifstat-agent":  "Usage: ifstat-agent [-config FILE]\n  -config string\n  -version\n",
		"ifstat-bridge": "usage: ifstat-bridge [-config FILE] [update-every | demo | watch]\n  -config string\n",
	}
	k := newDocChecker(t, func(p string) string { return help[p] })
	page := filepath.Join(t.TempDir(), "page.md")
	md := "```sh\n" +
		"IFSTAT_BROKR=tcp://x:1 ./ifstat-agent-linux-mips99 -verbose\n" + // variable, target, flag
		"sudo packaging/netdata/nope.sh\n" + // path
		"go run ./cmd/ifstat-bridge dmeo\n" + // mode
		"scripts/build-agents.sh -fast sparc\n" + // script flag, target
		"scripts/release.sh amd64 vax\n" + // target
		"go build -o mybridge ./cmd/ifstat-bridge\n./mybridge -config f 1 watch -nope\n" + // flag
		"./ifstat-bridge\n" + // archive content: fine
		"sleep infinity | runuser -u netdata -- env NETDATA_USER_CONFIG_DIR=/etc/netdata /usr/lib/netdata/plugins.d/ifstat.plugin 1\n" +
		"```\n"
	if err := os.WriteFile(page, []byte(md), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := k.checkPage(page); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"IFSTAT_BROKR is not a variable",
		`builds no target "mips99"`,
		"ifstat-agent has no flag -verbose",
		"no packaging/netdata/nope.sh in the repository",
		`ifstat-bridge has no mode "dmeo"`,
		"scripts/build-agents.sh does not know -fast",
		`scripts/build-agents.sh has no target "sparc"`,
		`scripts/release.sh has no target "vax"`,
		"ifstat-bridge has no flag -nope",
	}
	got := strings.Join(k.problems, "\n")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("problem %q not reported; reported:\n%s", w, got)
		}
	}
	if len(k.problems) != len(want) {
		t.Errorf("%d problems reported, want %d:\n%s", len(k.problems), len(want), got)
	}
}

// stripWrappers drops what runs a command without being it: leading
// VAR=value assignments, sudo [-u USER], runuser … --, env.
func stripWrappers(w []string) []string {
	for len(w) > 0 {
		switch {
		case strings.Contains(w[0], "=") && !strings.HasPrefix(w[0], "-"):
			w = w[1:]
		case w[0] == "sudo":
			w = w[1:]
			for len(w) > 1 && w[0] == "-u" {
				w = w[2:]
			}
		case w[0] == "runuser":
			i := slices.Index(w, "--")
			if i < 0 {
				return w
			}
			w = w[i+1:]
		case w[0] == "env":
			w = w[1:]
		default:
			return w
		}
	}
	return w
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// TestNoOutsideReferences fails when a file of the repository points at a
// file outside it (the workspace's shared notes): readers of the repository
// do not have them.
func TestNoOutsideReferences(t *testing.T) {
	t.Parallel()
	bad := regexp.MustCompile(`/work/|\bshared/reference\b`)
	err := filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("..", p)
		if d.IsDir() && (rel == "dist" || rel == "bin" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() == ".git" || rel == filepath.Join("docs", "commands_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for n, l := range strings.Split(string(b), "\n") {
			if bad.MatchString(l) {
				t.Errorf("%s:%d refers outside the repository: %s", rel, n+1, strings.TrimSpace(l))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

package plugind

import "strings"

// Fields splits a line of plugins.d output into its words, the reader's
// side of what Writer writes: a single-quoted word is one word, quotes
// removed (an unterminated quote runs to the end of the line). For tools
// and tests that read the bridge's output.
func Fields(line string) []string {
	var words []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		if line[0] == '\'' {
			end := strings.IndexByte(line[1:], '\'')
			if end < 0 {
				return append(words, line[1:])
			}
			words = append(words, line[1:1+end])
			line = line[2+end:]
			continue
		}
		w, rest, _ := strings.Cut(line, " ")
		words = append(words, w)
		line = rest
	}
	return words
}

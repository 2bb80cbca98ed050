package plugind

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// ErrInvalidFunction is returned for a function name, transaction or result
// that Netdata could not take back unchanged.
var ErrInvalidFunction = errors.New("invalid function name, transaction or result")

// MaxFunctionResult bounds a function result: Netdata 1.37 stops a plugin
// whose deferred response grows beyond 10 MiB.
const MaxFunctionResult = 8 << 20

// validFunctionWord reports whether s is a non-empty word of [A-Za-z0-9_-]
// of at most 200 bytes: what Netdata 1.37 keeps unchanged in a function
// name (its sanitiser turns other characters into '_', spaces separate the
// name from its arguments) and what its transaction ids (UUIDs) consist of.
func validFunctionWord(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Function writes FUNCTION GLOBAL 'name' timeout 'help' (Netdata 1.37 and
// later): the host offers function name, answered by this plugin; Netdata
// then sends "FUNCTION transaction timeout "name args"" on the plugin's
// stdin. GLOBAL attaches it to the host instead of the last CHART. timeout
// is in seconds (0 or less: Netdata's default, 10). name must be
// [A-Za-z0-9_-]; else nothing is written and [ErrInvalidFunction] returned.
func (w *Writer) Function(name string, timeout int, help string) error {
	if !validFunctionWord(name) {
		return fmt.Errorf("FUNCTION %q: %w", name, ErrInvalidFunction)
	}
	b := append(w.buf, "FUNCTION GLOBAL '"...)
	b = append(b, name...)
	b = append(b, "' "...)
	b = strconv.AppendInt(b, int64(max(timeout, 0)), 10)
	b = append(b, " '"...)
	b = appendText(b, help, MaxTextLen)
	w.buf = append(b, "'\n"...)
	return nil
}

// FunctionResult writes the answer to one FUNCTION call:
//
//	FUNCTION_RESULT_BEGIN transaction code content-type expires
//	body
//	FUNCTION_RESULT_END
//
// Netdata 1.37 passes every line up to FUNCTION_RESULT_END to the caller
// unparsed, so the three must reach it without other lines in between:
// Flush after it, as after a tick. code is an HTTP status, contentType
// "application/json" or "text/plain", expires a Unix time in seconds
// (the answer may be cached until then). A transaction that is not
// [A-Za-z0-9_-], a body with a line that would end the result early or
// larger than [MaxFunctionResult] writes nothing and returns
// [ErrInvalidFunction].
func (w *Writer) FunctionResult(transaction string, code int, contentType string, expires int64, body []byte) error {
	if !validFunctionWord(transaction) {
		return fmt.Errorf("FUNCTION_RESULT_BEGIN %q: %w", transaction, ErrInvalidFunction)
	}
	if len(body) > MaxFunctionResult || bytes.Contains(body, []byte("FUNCTION_RESULT_END")) {
		return fmt.Errorf("FUNCTION_RESULT_BEGIN %s: body: %w", transaction, ErrInvalidFunction)
	}
	if contentType == "" {
		contentType = "text/plain"
	}
	b := append(w.buf, "FUNCTION_RESULT_BEGIN "...)
	b = append(b, transaction...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, " '"...)
	b = appendText(b, contentType, MaxTextLen)
	b = append(b, "' "...)
	b = strconv.AppendInt(b, max(expires, 0), 10)
	b = append(b, '\n')
	b = append(b, body...)
	if len(body) > 0 && body[len(body)-1] != '\n' {
		b = append(b, '\n')
	}
	w.buf = append(b, "FUNCTION_RESULT_END\n"...)
	return nil
}

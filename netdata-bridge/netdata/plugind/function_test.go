package plugind

import (
	"errors"
	"testing"
)

func TestFunction(t *testing.T) {
	w := NewWriter(Features{})
	if err := w.Function("ifstat-routers", 10, "Routers: 'status'\nand more"); err != nil {
		t.Fatal(err)
	}
	want := "FUNCTION GLOBAL 'ifstat-routers' 10 'Routers: status and more'\n"
	if got := string(w.Bytes()); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	w.Reset()
	for _, bad := range []string{"", "two words", "a'b", "x\ny", "ü"} {
		if err := w.Function(bad, 10, "h"); !errors.Is(err, ErrInvalidFunction) {
			t.Errorf("Function(%q): err %v, want ErrInvalidFunction", bad, err)
		}
	}
	if w.Len() != 0 {
		t.Errorf("invalid names wrote %q", w.Bytes())
	}
}

func TestFunctionResult(t *testing.T) {
	w := NewWriter(Features{})
	tx := "8d5b5e3a-7a1c-11ed-9b6a-0242ac120002"
	if err := w.FunctionResult(tx, 200, "application/json", 1700000000, []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	want := "FUNCTION_RESULT_BEGIN " + tx + " 200 'application/json' 1700000000\n{\"a\":1}\nFUNCTION_RESULT_END\n"
	if got := string(w.Bytes()); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	w.Reset()
	if err := w.FunctionResult("tx", 404, "", -5, []byte("no\n")); err != nil {
		t.Fatal(err)
	}
	if got, want := string(w.Bytes()), "FUNCTION_RESULT_BEGIN tx 404 'text/plain' 0\nno\nFUNCTION_RESULT_END\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	w.Reset()
	for _, c := range []struct{ tx, body string }{
		{"", "x"}, {"a b", "x"}, {"a\nEND", "x"}, {"tx", "x\nFUNCTION_RESULT_END\nDISABLE"},
	} {
		if err := w.FunctionResult(c.tx, 200, "text/plain", 0, []byte(c.body)); !errors.Is(err, ErrInvalidFunction) {
			t.Errorf("FunctionResult(%q, %q): err %v, want ErrInvalidFunction", c.tx, c.body, err)
		}
	}
	if w.Len() != 0 {
		t.Errorf("invalid results wrote %q", w.Bytes())
	}
}

func TestFunctionsSupported(t *testing.T) {
	for v, want := range map[string]bool{
		"v1.37.1": true, "1.37.0": true, "v1.44.0": true, "v2.7.0-nightly": true,
		"v1.36.1": false, "v1.9.0": false, "": false, "junk": false,
	} {
		if got := FunctionsSupported(v); got != want {
			t.Errorf("FunctionsSupported(%q) = %v, want %v", v, got, want)
		}
	}
}

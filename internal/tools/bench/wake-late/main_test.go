package main

import (
	"strings"
	"testing"
	"time"
)

func TestSummary(t *testing.T) {
	us := time.Microsecond
	var late []time.Duration
	for i := range 1000 {
		late = append(late, time.Duration(i)*us) // 0 to 999 µs
	}
	late = append(late, 1500*us, 3*time.Millisecond)
	got := summary(late, time.Millisecond)
	for _, want := range []string{"1002 sleeps of 1ms", "median 501µs", "max 3ms", "more than 1ms late: 2 (0.20 %)"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary %q lacks %q", got, want)
		}
	}
	if got := summary(nil, time.Millisecond); got != "no sleeps" {
		t.Errorf("summary of none: %q", got)
	}
	// A wake exactly one sleep late is not counted as more than it.
	if got := summary([]time.Duration{time.Millisecond}, time.Millisecond); !strings.Contains(got, "late: 0 (0.00 %)") {
		t.Errorf("summary %q counts a wake exactly 1 ms late", got)
	}
}

func TestStealLine(t *testing.T) {
	a := []int64{100, 0, 50, 1000, 0, 0, 0, 10}
	b := []int64{110, 0, 60, 1070, 0, 0, 0, 20} // 20 busy, 70 idle, 10 stolen
	if got, want := stealLine(a, b), "cpu meanwhile: busy 20.0 %, idle 70.0 %, stolen by the hypervisor 10.0 %"; got != want {
		t.Errorf("stealLine = %q, want %q", got, want)
	}
	if got := stealLine(a, a); got != "cpu: no ticks" {
		t.Errorf("no ticks: %q", got)
	}
}

func TestRunArgs(t *testing.T) {
	var out, errb strings.Builder
	if rc := run(t.Context(), []string{"-duration", "0s"}, &out, &errb); rc != 2 || !strings.Contains(errb.String(), "-duration") {
		t.Errorf("-duration 0: rc %d, stderr %q", rc, errb.String())
	}
	errb.Reset()
	if rc := run(t.Context(), []string{"-duration", "50ms", "-sleep", "1ms"}, &out, &errb); rc != 0 || !strings.Contains(out.String(), "sleeps of 1ms") {
		t.Errorf("a short run: rc %d, stdout %q, stderr %q", rc, out.String(), errb.String())
	}
}

package tariff

import (
	"testing"
	"time"
)

// FuzzParse asserts that Parse and ParseCaps never panic, and that an
// accepted schedule maps every minute of the week to one of its tariffs.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"happy=00:00-07:00;normal=*", "peak=Mon-Fri 08:00-20:00;offpeak=*", "night=22:00-06:00;weekend=Sat-Sun;day=*",
		"happy=24:01-07:00;normal=*", "a=Fri-Mon;b=*", "x=Sun 23:00-01:00,Mon 05:00-24:00;y=*", ";;=", "a=*;a=*"} {
		f.Add(s, "normal=500GB;happy=")
	}
	f.Fuzz(func(t *testing.T, spec, caps string) {
		s, err := Parse(spec, time.UTC)
		if err != nil {
			return
		}
		for m := range s.week {
			if int(s.week[m]) >= len(s.names) {
				t.Fatalf("Parse(%q): minute %d has no tariff", spec, m)
			}
		}
		_, _ = ParseCaps(caps, s)
		_ = Split(1000, time.Unix(0, 0), time.Unix(86400*8, 0), s)
	})
}

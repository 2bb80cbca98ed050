package tariff

import (
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the DST tests must not depend on the machine's zoneinfo

	"github.com/google/go-cmp/cmp"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustParse(t testing.TB, spec string, loc *time.Location) *Schedule {
	t.Helper()
	s, err := Parse(spec, loc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// changeList renders the wall-clock changes of s, e.g. "Mon 07:00 normal".
func changeList(s *Schedule) []string {
	var out []string
	for _, c := range s.changes {
		out = append(out, minuteName(int(c.minute))+" "+s.names[c.tariff])
	}
	return out
}

func everyDay(pairs ...string) []string {
	var out []string
	for _, d := range dayNames {
		for _, p := range pairs {
			out = append(out, d+" "+p)
		}
	}
	return out
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, spec string
		want       []string
	}{
		{"happy hours", "happy=00:00-07:00;normal=*", everyDay("00:00 happy", "07:00 normal")},
		{"crosses midnight", "night=22:00-06:00;day=*", everyDay("06:00 day", "22:00 night")},
		{"weekdays", "peak=Mon-Fri 08:00-20:00;offpeak=*", []string{
			"Mon 08:00 peak", "Mon 20:00 offpeak", "Tue 08:00 peak", "Tue 20:00 offpeak", "Wed 08:00 peak", "Wed 20:00 offpeak",
			"Thu 08:00 peak", "Thu 20:00 offpeak", "Fri 08:00 peak", "Fri 20:00 offpeak"}},
		{"spaces, case, self-overlap, trailing ;", " peak = Mon-fri 08:00-20:00 , FRI 18:00-22:00 ; offpeak = * ;", []string{
			"Mon 08:00 peak", "Mon 20:00 offpeak", "Tue 08:00 peak", "Tue 20:00 offpeak", "Wed 08:00 peak", "Wed 20:00 offpeak",
			"Thu 08:00 peak", "Thu 20:00 offpeak", "Fri 08:00 peak", "Fri 22:00 offpeak"}},
		{"no default, whole week", "weekend=Sat-Sun;week=Mon-Fri", []string{"Mon 00:00 week", "Sat 00:00 weekend"}},
		{"wraps over the week", "late=Sun 23:00-01:00;other=*", []string{"Mon 01:00 other", "Sun 23:00 late"}},
		{"day range wraps", "long=Fri-Mon;short=*", []string{"Tue 00:00 short", "Fri 00:00 long"}},
		{"whole day window", "a=00:00-24:00", nil},
		{"one default", "all=*", nil},
		{"midnight end", "evening=18:00-24:00;rest=*", everyDay("00:00 rest", "18:00 evening")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(tt.spec, time.UTC)
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.spec, err)
			}
			if diff := cmp.Diff(tt.want, changeList(s)); diff != "" {
				t.Errorf("Parse(%q) changes (-want +got):\n%s", tt.spec, diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	many := ""
	for i := range MaxTariffs + 1 {
		many += fmt.Sprintf("t%d=%s %02d:00-%02d:30;", i, dayNames[i/24], i%24, i%24)
	}
	tests := []struct{ spec, want string }{
		{"", `empty schedule (want e.g. happy=00:00-07:00;normal=*)`},
		{" ; ", `empty schedule (want e.g. happy=00:00-07:00;normal=*)`},
		{"happy", `"happy": want name=windows or name=*`},
		{"=00:00-07:00;normal=*", `empty tariff name`},
		{"Happy=00:00-07:00;normal=*", `tariff name "Happy": use a-z, 0-9, _ and -, at most 32`},
		{"a=00:00-07:00;a=*", `tariff "a" defined twice`},
		{"a=*;b=*", `tariffs "a" and "b" are both the default *`},
		{"happy=;normal=*", `tariff "happy": no windows (want HH:MM-HH:MM, days, or *)`},
		{"happy=24:01-07:00;normal=*", `tariff "happy": "24:01" is not a time of day (want HH:MM, 00:00 to 24:00)`},
		{"happy=7:5-08:00;normal=*", `tariff "happy": "7:5" is not a time of day (want HH:MM, 00:00 to 24:00)`},
		{"happy=00:00-25:00;normal=*", `tariff "happy": "25:00" is not a time of day (want HH:MM, 00:00 to 24:00)`},
		{"happy=00:00-07:60;normal=*", `tariff "happy": "07:60" is not a time of day (want HH:MM, 00:00 to 24:00)`},
		{"happy=24:00-06:00;normal=*", `tariff "happy": window "24:00-06:00": a window cannot start at 24:00`},
		{"happy=08:00-08:00;normal=*", `tariff "happy": window "08:00-08:00" is empty (use 00:00-24:00 for a whole day)`},
		{"happy=00:00;normal=*", `tariff "happy": window "00:00": want HH:MM-HH:MM`},
		{"happy=Mon 00:00-07:00 x;normal=*", `tariff "happy": window "Mon 00:00-07:00 x": want [days ]HH:MM-HH:MM`},
		{"happy=00:00-07:00,;normal=*", `tariff "happy": empty window (a stray comma?)`},
		{"peak=Mo-Fri 08:00-20:00;offpeak=*", `tariff "peak": unknown day "Mo" (use Mon Tue Wed Thu Fri Sat Sun, or a range such as Mon-Fri)`},
		{"peak=Monday;offpeak=*", `tariff "peak": unknown day "Monday" (use Mon Tue Wed Thu Fri Sat Sun, or a range such as Mon-Fri)`},
		{"peak=Mon-Fri 08:00-20:00;happy=07:00-09:00;normal=*", `tariff "happy": overlaps tariff "peak" on Mon 08:00`},
		{"night=Sun 22:00-06:00;early=Mon 05:00-07:00;rest=*", `tariff "early": overlaps tariff "night" on Mon 05:00`},
		{"happy=00:00-07:00", `no tariff covers Mon 07:00 (add a default such as normal=*)`},
		{"week=Mon-Fri", `no tariff covers Sat 00:00 (add a default such as normal=*)`},
		{"day=07:00-19:00;night=19:00-07:00;other=*", `default tariff "other" never applies: the others cover the whole week`},
		{many, "more than 32 tariffs"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(tt.spec, time.UTC)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error %s", tt.spec, s, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Parse(%q) error\n got %s\nwant %s", tt.spec, got, tt.want)
			}
		})
	}
}

func TestLoadZone(t *testing.T) {
	t.Parallel()
	if loc, err := LoadZone(""); err != nil || loc != time.Local {
		t.Errorf(`LoadZone("") = %v, %v, want time.Local`, loc, err)
	}
	// An instant whose wall clock tells the offset: 12:00 UTC.
	noon := time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)
	good := []struct {
		value string
		wall  string // noon UTC on the zone's wall clock
	}{
		{"America/New_York", "08:00"}, // EDT in July
		{"UTC", "12:00"},
		{"+05:30", "17:30"},
		{"-03:30", "08:30"},
		{"+05:45", "17:45"},
		{"+00:00", "12:00"},
		{"-00:00", "12:00"},
		{"+23:59", "11:59"},
		{"-23:59", "12:01"},
	}
	for _, tt := range good {
		loc, err := LoadZone(tt.value)
		if err != nil {
			t.Errorf("LoadZone(%q) = %v", tt.value, err)
			continue
		}
		if got := noon.In(loc).Format("15:04"); got != tt.wall {
			t.Errorf("LoadZone(%q): 12:00 UTC is %s on its clock, want %s", tt.value, got, tt.wall)
		}
		if loc.String() != tt.value {
			t.Errorf("LoadZone(%q) is named %q", tt.value, loc)
		}
	}
	const (
		unknown = "unknown time zone (want an IANA name such as Europe/Berlin, or an offset such as +05:30)"
		offset  = "not a UTC offset (want ±HH:MM, -23:59 to +23:59, e.g. +05:30)"
		seconds = "an offset with seconds cannot be stored in RFC 3339 (want ±HH:MM, e.g. +05:30)"
	)
	bad := []struct{ value, reason string }{
		{"Mars/Olympus_Mons", unknown},
		{"05:30", unknown},
		{"UTC+05:30", unknown},
		{"+5:30", offset},
		{"+0530", offset},
		{"+05", offset},
		{"+05:3", offset},
		{"+24:00", offset},
		{"-05:60", offset},
		{"+05:30 ", offset},
		{"+0a:30", offset},
		{"++5:30", offset},
		{"+", offset},
		{"+05:30:10", seconds},
		{"-00:00:50", seconds},
	}
	for _, tt := range bad {
		_, err := LoadZone(tt.value)
		if err == nil || err.Error() != tt.reason {
			t.Errorf("LoadZone(%q) = %v, want %s", tt.value, err, tt.reason)
		}
	}
}

// TestOffsetZoneSchedule: a schedule in a fixed-offset zone changes at its
// wall-clock times, the same instants as in the IANA zone of that offset.
func TestOffsetZoneSchedule(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ offset, iana string }{
		{"+05:30", "Asia/Kolkata"},
		{"-03:00", "America/Argentina/Buenos_Aires"},
	} {
		fixed, err := LoadZone(tt.offset)
		if err != nil {
			t.Fatal(err)
		}
		named, err := LoadZone(tt.iana)
		if err != nil {
			t.Fatal(err)
		}
		const spec = "night=22:00-06:00;day=*"
		a, err := Parse(spec, fixed)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Parse(spec, named)
		if err != nil {
			t.Fatal(err)
		}
		from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		got, want := boundaryList(a.Boundaries(from, from.AddDate(0, 0, 3))), boundaryList(b.Boundaries(from, from.AddDate(0, 0, 3)))
		if len(got) != 6 || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: boundaries\n%s\nwant those of %s\n%s", tt.offset, strings.Join(got, "\n"), tt.iana, strings.Join(want, "\n"))
		}
	}
}

// boundaryList renders Boundaries as "RFC 3339 instant tariff".
func boundaryList(bs []Boundary) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.At.Format(time.RFC3339)+" "+b.Tariff)
	}
	return out
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Berlin 2025: 30 Mar 02:00 CET -> 03:00 CEST (23 h day), 26 Oct 03:00
// CEST -> 02:00 CET (25 h day). New York 2025: 9 Mar 02:00 EST -> 03:00
// EDT, 2 Nov 02:00 EDT -> 01:00 EST.
func TestBoundaries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, zone, spec string
		t0, t1           string
		want             []string
	}{
		{"across midnight", "Europe/Berlin", "night=22:00-06:00;day=*", "2025-01-01T12:00:00+01:00", "2025-01-02T12:00:00+01:00",
			[]string{"2025-01-01T22:00:00+01:00 night", "2025-01-02T06:00:00+01:00 day"}},
		{"(t0, t1]: at t0 excluded, at t1 included", "Europe/Berlin", "night=22:00-06:00;day=*", "2025-01-01T06:00:00+01:00", "2025-01-01T22:00:00+01:00",
			[]string{"2025-01-01T22:00:00+01:00 night"}},
		{"Berlin spring forward, 23 h day", "Europe/Berlin", "happy=00:00-07:00;normal=*", "2025-03-29T12:00:00+01:00", "2025-03-30T12:00:00+02:00",
			[]string{"2025-03-30T00:00:00+01:00 happy", "2025-03-30T07:00:00+02:00 normal"}},
		{"Berlin spring forward, change inside the gap", "Europe/Berlin", "happy=00:00-02:30;normal=*", "2025-03-29T12:00:00+01:00", "2025-03-30T12:00:00+02:00",
			[]string{"2025-03-30T00:00:00+01:00 happy", "2025-03-30T03:00:00+02:00 normal"}},
		{"Berlin spring forward, whole window inside the gap", "Europe/Berlin", "a=02:00-02:30;b=*", "2025-03-29T12:00:00+01:00", "2025-03-30T12:00:00+02:00",
			nil},
		{"Berlin spring forward, window ends in the gap", "Europe/Berlin", "a=01:30-02:30;b=*", "2025-03-30T00:00:00+01:00", "2025-03-30T12:00:00+02:00",
			[]string{"2025-03-30T01:30:00+01:00 a", "2025-03-30T03:00:00+02:00 b"}},
		{"Berlin fall back, 25 h day", "Europe/Berlin", "happy=00:00-07:00;normal=*", "2025-10-25T12:00:00+02:00", "2025-10-26T12:00:00+01:00",
			[]string{"2025-10-26T00:00:00+02:00 happy", "2025-10-26T07:00:00+01:00 normal"}},
		{"Berlin fall back, change in the repeated hour happens once", "Europe/Berlin", "happy=00:00-02:30;normal=*", "2025-10-25T12:00:00+02:00", "2025-10-26T12:00:00+01:00",
			[]string{"2025-10-26T00:00:00+02:00 happy", "2025-10-26T02:30:00+02:00 normal"}},
		{"Berlin fall back, change at the end of the repeated hour", "Europe/Berlin", "happy=00:00-03:00;normal=*", "2025-10-25T12:00:00+02:00", "2025-10-26T12:00:00+01:00",
			[]string{"2025-10-26T00:00:00+02:00 happy", "2025-10-26T03:00:00+01:00 normal"}},
		{"Berlin fall back, window inside the repeated hour", "Europe/Berlin", "a=02:15-02:45;b=*", "2025-10-26T00:00:00+02:00", "2025-10-26T12:00:00+01:00",
			[]string{"2025-10-26T02:15:00+02:00 a", "2025-10-26T02:45:00+02:00 b"}},
		{"New York spring forward", "America/New_York", "happy=01:00-03:00;normal=*", "2025-03-08T12:00:00-05:00", "2025-03-09T12:00:00-04:00",
			[]string{"2025-03-09T01:00:00-05:00 happy", "2025-03-09T03:00:00-04:00 normal"}},
		{"New York fall back", "America/New_York", "happy=01:30-02:00;normal=*", "2025-11-01T12:00:00-04:00", "2025-11-02T12:00:00-05:00",
			[]string{"2025-11-02T01:30:00-04:00 happy", "2025-11-02T02:00:00-05:00 normal"}},
		{"New York weekend over fall back", "America/New_York", "peak=Mon-Fri 08:00-20:00;offpeak=*", "2025-10-31T19:00:00-04:00", "2025-11-03T09:00:00-05:00",
			[]string{"2025-10-31T20:00:00-04:00 offpeak", "2025-11-03T08:00:00-05:00 peak"}},
		{"empty interval", "Europe/Berlin", "night=22:00-06:00;day=*", "2025-01-01T22:00:00+01:00", "2025-01-01T22:00:00+01:00", nil},
		{"backwards interval", "Europe/Berlin", "night=22:00-06:00;day=*", "2025-01-02T22:00:00+01:00", "2025-01-01T22:00:00+01:00", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustParse(t, tt.spec, mustLoad(t, tt.zone))
			t0, t1 := mustTime(t, tt.t0), mustTime(t, tt.t1)
			bs := s.Boundaries(t0, t1)
			if diff := cmp.Diff(tt.want, boundaryList(bs)); diff != "" {
				t.Errorf("Boundaries(%s, %s) (-want +got):\n%s", tt.t0, tt.t1, diff)
			}
			prev := s.At(t0)
			for _, b := range bs {
				if got := s.At(b.At); got != b.Tariff {
					t.Errorf("At(%v) = %s, want %s (the boundary's tariff)", b.At, got, b.Tariff)
				}
				if got := s.At(b.At.Add(-time.Nanosecond)); got != prev {
					t.Errorf("At(%v - 1ns) = %s, want %s", b.At, got, prev)
				}
				prev = b.Tariff
			}
		})
	}
}

func TestAt(t *testing.T) {
	t.Parallel()
	berlin, ny := mustLoad(t, "Europe/Berlin"), mustLoad(t, "America/New_York")
	tests := []struct {
		name string
		s    *Schedule
		at   string
		want string
	}{
		{"before midnight", mustParse(t, "night=22:00-06:00;day=*", berlin), "2025-01-01T21:59:59+01:00", "day"},
		{"at 22:00", mustParse(t, "night=22:00-06:00;day=*", berlin), "2025-01-01T22:00:00+01:00", "night"},
		{"after midnight", mustParse(t, "night=22:00-06:00;day=*", berlin), "2025-01-02T05:59:59+01:00", "night"},
		{"at 06:00", mustParse(t, "night=22:00-06:00;day=*", berlin), "2025-01-02T06:00:00+01:00", "day"},
		{"last second before the gap", mustParse(t, "happy=00:00-02:30;normal=*", berlin), "2025-03-30T01:59:59+01:00", "happy"},
		{"first second after the gap", mustParse(t, "happy=00:00-02:30;normal=*", berlin), "2025-03-30T03:00:00+02:00", "normal"},
		{"first pass of the repeated hour", mustParse(t, "happy=00:00-02:30;normal=*", berlin), "2025-10-26T02:15:00+02:00", "happy"},
		{"second pass keeps the later tariff", mustParse(t, "happy=00:00-02:30;normal=*", berlin), "2025-10-26T02:15:00+01:00", "normal"},
		{"second pass, window to 03:00", mustParse(t, "happy=00:00-03:00;normal=*", berlin), "2025-10-26T02:59:59+01:00", "happy"},
		{"after the repeated hour", mustParse(t, "happy=00:00-03:00;normal=*", berlin), "2025-10-26T03:00:00+01:00", "normal"},
		{"New York repeated 01:15 EST stays happy", mustParse(t, "happy=01:30-02:00;normal=*", ny), "2025-11-02T01:15:00-05:00", "happy"},
		{"New York 01:15 EDT", mustParse(t, "happy=01:30-02:00;normal=*", ny), "2025-11-02T01:15:00-04:00", "normal"},
		{"weekday in its zone, not UTC", mustParse(t, "weekend=Sat-Sun;week=*", ny), "2025-11-01T02:00:00Z", "week"},
		{"far past", mustParse(t, "weekend=Sat-Sun;week=*", berlin), "1900-01-06T12:00:00+01:00", "weekend"},
		{"far future", mustParse(t, "weekend=Sat-Sun;week=*", berlin), "2200-01-04T12:00:00+01:00", "weekend"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.s.At(mustTime(t, tt.at)); got != tt.want {
				t.Errorf("At(%s) = %s, want %s", tt.at, got, tt.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	s := mustParse(t, "late=Sun 23:00-01:00;other=*", time.UTC)
	got := s.String()
	want := "late=Mon 00:00-01:00,Sun 23:00-24:00;other=Mon 01:00-24:00,Tue 00:00-24:00,Wed 00:00-24:00,Thu 00:00-24:00,Fri 00:00-24:00,Sat 00:00-24:00,Sun 00:00-23:00"
	if got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	again := mustParse(t, got, time.UTC)
	if diff := cmp.Diff(changeList(s), changeList(again)); diff != "" {
		t.Errorf("Parse(String()) differs (-want +got):\n%s", diff)
	}
}

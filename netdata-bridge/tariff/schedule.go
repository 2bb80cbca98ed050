package tariff

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

const (
	minutesPerDay  = 24 * 60
	minutesPerWeek = 7 * minutesPerDay
	secondsPerWeek = minutesPerWeek * 60

	// mondayNaive is 1970-01-05 00:00, a Monday, in naive wall seconds.
	mondayNaive = 4 * 86400

	// MaxTariffs is the largest number of tariffs in one schedule.
	MaxTariffs = 32
	// MaxNameLen is the longest tariff name; names become Netdata
	// dimension ids and Home Assistant object ids.
	MaxNameLen = 32

	unassigned = 0xff
)

var dayNames = [7]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// Schedule maps every instant to exactly one tariff. It is immutable and
// safe for concurrent use.
type Schedule struct {
	loc   *time.Location
	names []string
	// week holds the tariff index of every minute of the week, Monday 00:00
	// first, on the wall clock of loc.
	week [minutesPerWeek]uint8
	// changes lists the minutes of the week at which the tariff differs from
	// the minute before (cyclically), in increasing order. Empty when one
	// tariff covers the whole week.
	changes []change
}

type change struct {
	minute int32
	tariff uint8
}

// Boundary is an instant at which the tariff in force changes.
type Boundary struct {
	At     time.Time // the first instant of the new tariff, in the schedule's zone
	Tariff string    // the tariff in force from At on
}

// Location returns the schedule's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// Tariffs returns the tariff names in the order of the specification.
func (s *Schedule) Tariffs() []string { return append([]string(nil), s.names...) }

// Index returns the position of tariff name in Tariffs, or -1.
func (s *Schedule) Index(name string) int {
	for i, n := range s.names {
		if n == name {
			return i
		}
	}
	return -1
}

// LoadZone resolves the value of IFSTAT_TARIFF_TZ: empty means the
// system's zone (time.Local); a fixed offset from UTC, ±HH:MM such as
// +05:30 or -03:00 (a meter that never changes its clock), is a zone of
// that offset named as written; anything else is an IANA name such as
// Europe/Berlin. Errors are one-line reasons; the caller names the variable.
//
// Offsets have whole minutes: the totals' times are stored and shown in
// RFC 3339, whose offsets have no seconds, and Go would write a zone of
// +05:30:10 as +05:30, moving every stored instant by 10 s.
func LoadZone(name string) (*time.Location, error) {
	if name == "" {
		return time.Local, nil
	}
	if name[0] == '+' || name[0] == '-' {
		off, err := parseOffset(name)
		if err != nil {
			return nil, err
		}
		return time.FixedZone(name, off), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errors.New("unknown time zone (want an IANA name such as Europe/Berlin, or an offset such as +05:30)")
	}
	return loc, nil
}

// parseOffset reads ±HH:MM, -23:59 to +23:59, into seconds east of UTC.
func parseOffset(s string) (int, error) {
	bad := fmt.Errorf("not a UTC offset (want ±HH:MM, -23:59 to +23:59, e.g. +05:30)")
	if len(s) != 6 || s[3] != ':' {
		if len(s) == 9 && s[3] == ':' && s[6] == ':' {
			return 0, fmt.Errorf("an offset with seconds cannot be stored in RFC 3339 (want ±HH:MM, e.g. +05:30)")
		}
		return 0, bad
	}
	for _, i := range []int{1, 2, 4, 5} {
		if s[i] < '0' || s[i] > '9' {
			return 0, bad
		}
	}
	h := int(s[1]-'0')*10 + int(s[2]-'0')
	m := int(s[4]-'0')*10 + int(s[5]-'0')
	if h > 23 || m > 59 {
		return 0, bad
	}
	off := (h*60 + m) * 60
	if s[0] == '-' {
		off = -off
	}
	return off, nil
}

// Parse reads a schedule in the syntax of IFSTAT_TARIFFS (see the package
// documentation) whose wall-clock times are in loc (nil means UTC). Errors
// are one-line reasons; the caller names the variable.
func Parse(spec string, loc *time.Location) (*Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	return parse(spec, loc)
}

func parse(spec string, loc *time.Location) (*Schedule, error) {
	s := &Schedule{loc: loc}
	for i := range s.week {
		s.week[i] = unassigned
	}
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("empty schedule (want e.g. happy=00:00-07:00;normal=*)")
	}
	deflt := -1
	for _, item := range strings.Split(spec, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue // a trailing ; is harmless
		}
		name, body, ok := strings.Cut(item, "=")
		name, body = strings.TrimSpace(name), strings.TrimSpace(body)
		if !ok {
			return nil, fmt.Errorf("%q: want name=windows or name=*", item)
		}
		if err := checkName(name); err != nil {
			return nil, err
		}
		if s.Index(name) >= 0 {
			return nil, fmt.Errorf("tariff %q defined twice", name)
		}
		if len(s.names) == MaxTariffs {
			return nil, fmt.Errorf("more than %d tariffs", MaxTariffs)
		}
		idx := len(s.names)
		s.names = append(s.names, name)
		if body == "*" {
			if deflt >= 0 {
				return nil, fmt.Errorf("tariffs %q and %q are both the default *", s.names[deflt], name)
			}
			deflt = idx
			continue
		}
		if body == "" {
			return nil, fmt.Errorf("tariff %q: no windows (want HH:MM-HH:MM, days, or *)", name)
		}
		for _, w := range strings.Split(body, ",") {
			if err := s.addWindow(idx, strings.TrimSpace(w)); err != nil {
				return nil, fmt.Errorf("tariff %q: %w", name, err)
			}
		}
	}
	if len(s.names) == 0 {
		return nil, fmt.Errorf("empty schedule (want e.g. happy=00:00-07:00;normal=*)")
	}
	used := false
	for m, t := range s.week {
		if t != unassigned {
			continue
		}
		if deflt < 0 {
			return nil, fmt.Errorf("no tariff covers %s (add a default such as normal=*)", minuteName(m))
		}
		s.week[m] = uint8(deflt)
		used = true
	}
	if deflt >= 0 && !used {
		return nil, fmt.Errorf("default tariff %q never applies: the others cover the whole week", s.names[deflt])
	}
	for m := range s.week {
		prev := s.week[(m+minutesPerWeek-1)%minutesPerWeek]
		if s.week[m] != prev {
			s.changes = append(s.changes, change{minute: int32(m), tariff: s.week[m]})
		}
	}
	return s, nil
}

func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("empty tariff name")
	}
	ok := len(name) <= MaxNameLen
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("tariff name %q: use a-z, 0-9, _ and -, at most %d", name, MaxNameLen)
	}
	return nil
}

// addWindow marks the minutes of window w ("[days ][HH:MM-HH:MM]") with
// tariff idx.
func (s *Schedule) addWindow(idx int, w string) error {
	if w == "" {
		return fmt.Errorf("empty window (a stray comma?)")
	}
	days, times := "", w
	if f := strings.Fields(w); len(f) == 2 {
		days, times = f[0], f[1]
	} else if len(f) > 2 {
		return fmt.Errorf("window %q: want [days ]HH:MM-HH:MM", w)
	} else if !strings.Contains(w, ":") {
		days, times = w, "00:00-24:00" // days alone: whole days
	}
	first, n := 0, 7
	if days != "" {
		var err error
		if first, n, err = parseDays(days); err != nil {
			return err
		}
	}
	from, to, ok := strings.Cut(times, "-")
	if !ok {
		return fmt.Errorf("window %q: want HH:MM-HH:MM", w)
	}
	start, err := parseClock(from)
	if err != nil {
		return err
	}
	end, err := parseClock(to)
	if err != nil {
		return err
	}
	switch {
	case start == minutesPerDay:
		return fmt.Errorf("window %q: a window cannot start at 24:00", w)
	case start == end:
		return fmt.Errorf("window %q is empty (use 00:00-24:00 for a whole day)", w)
	case end < start:
		end += minutesPerDay // crosses midnight into the next day
	}
	for d := first; d < first+n; d++ {
		for m := d%7*minutesPerDay + start; m < d%7*minutesPerDay+end; m++ {
			mw := m % minutesPerWeek
			switch old := s.week[mw]; {
			case old == unassigned:
				s.week[mw] = uint8(idx)
			case int(old) != idx:
				return fmt.Errorf("overlaps tariff %q on %s", s.names[old], minuteName(mw))
			}
		}
	}
	return nil
}

// parseDays reads "Mon" or "Fri-Mon" (wrapping over Sunday) and returns the
// first day (0 = Monday) and the number of days.
func parseDays(days string) (first, n int, err error) {
	from, to, isRange := strings.Cut(days, "-")
	a, err := parseDay(from)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		return a, 1, nil
	}
	b, err := parseDay(to)
	if err != nil {
		return 0, 0, err
	}
	return a, (b-a+7)%7 + 1, nil
}

func parseDay(d string) (int, error) {
	for i, n := range dayNames {
		if strings.EqualFold(d, n) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown day %q (use Mon Tue Wed Thu Fri Sat Sun, or a range such as Mon-Fri)", d)
}

// parseClock reads HH:MM, 00:00 to 24:00, into minutes since midnight.
func parseClock(c string) (int, error) {
	bad := fmt.Errorf("%q is not a time of day (want HH:MM, 00:00 to 24:00)", c)
	if len(c) != 5 || c[2] != ':' {
		return 0, bad
	}
	for _, i := range []int{0, 1, 3, 4} {
		if c[i] < '0' || c[i] > '9' {
			return 0, bad
		}
	}
	h := int(c[0]-'0')*10 + int(c[1]-'0')
	m := int(c[3]-'0')*10 + int(c[4]-'0')
	if h > 24 || m > 59 || h == 24 && m != 0 {
		return 0, bad
	}
	return h*60 + m, nil
}

func minuteName(m int) string {
	return fmt.Sprintf("%s %02d:%02d", dayNames[m/minutesPerDay], m%minutesPerDay/60, m%60)
}

// String returns the schedule in canonical form: one window list per
// tariff, per day, in the schedule's order.
func (s *Schedule) String() string {
	var b strings.Builder
	for i, n := range s.names {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(n)
		b.WriteByte('=')
		sep := ""
		for d := range 7 {
			for m := d * minutesPerDay; m < (d+1)*minutesPerDay; m++ {
				if int(s.week[m]) != i || m > d*minutesPerDay && int(s.week[m-1]) == i {
					continue
				}
				e := m
				for e < (d+1)*minutesPerDay && int(s.week[e]) == i {
					e++
				}
				e -= d * minutesPerDay
				fmt.Fprintf(&b, "%s%s %02d:%02d-%02d:%02d", sep, dayNames[d], m%minutesPerDay/60, m%60, e/60, e%60)
				sep = ","
			}
		}
	}
	return b.String()
}

// At returns the tariff in force at t. The schedule follows the wall clock
// of its zone, except that it never goes back: see the package
// documentation on daylight saving time.
func (s *Schedule) At(t time.Time) string { return s.names[s.at(t)] }

func (s *Schedule) at(t time.Time) uint8 {
	return s.week[weekMinute(s.highWater(t))]
}

// weekMinute returns the minute of the week (Monday 00:00 = 0) of naive
// wall seconds w.
func weekMinute(w int64) int {
	return int(floorMod(w-mondayNaive, secondsPerWeek) / 60)
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// highWater returns the latest wall-clock second (naive: as if the wall
// clock were UTC) shown at or before t. It equals t's wall clock except in
// the hour repeated after a fall-back change, where it stays at the last
// second shown before the clock went back.
func (s *Schedule) highWater(t time.Time) int64 {
	tl := t.In(s.loc)
	_, off := tl.Zone()
	u := t.Unix()
	w := u + int64(off)
	probe := tl
	for range 4 {
		start, _ := probe.ZoneBounds()
		if start.IsZero() || start.Unix() < u-2*86400 {
			break
		}
		prev := start.Add(-time.Second)
		_, poff := prev.Zone()
		if hw := start.Unix() + int64(poff) - 1; hw > w {
			w = hw
		}
		probe = prev
	}
	return w
}

// firstAtOrAfter returns the first instant at which the wall clock of loc
// shows naive wall second w or later: the first of two occurrences after a
// fall-back change, and the end of the gap when w does not exist.
func firstAtOrAfter(w int64, loc *time.Location) time.Time {
	// Every offset in use is well within 30 h of UTC, so every instant
	// showing w lies after w-30h.
	probe := time.Unix(w-30*3600, 0).In(loc)
	for range 16 {
		start, end := probe.ZoneBounds()
		_, off := probe.Zone()
		i := w - int64(off)
		switch {
		case !start.IsZero() && i < start.Unix():
			return start // w was skipped: the gap ends at start
		case end.IsZero() || i < end.Unix():
			return time.Unix(i, 0).In(loc)
		}
		probe = end
	}
	// Unreachable with real zone data; never loop forever on odd data.
	return time.Unix(w, 0).In(loc)
}

// walk calls fn for every wall-clock tariff change whose instant lies in
// (t0, t1], in time order, with the instant and the tariff from then on.
// Several changes inside one skipped hour share an instant; the last one
// wins.
func (s *Schedule) walk(t0, t1 time.Time, fn func(at time.Time, tariff uint8)) {
	if len(s.changes) == 0 || !t1.After(t0) {
		return
	}
	m0 := s.highWater(t0)
	pos := floorMod(m0-mondayNaive, secondsPerWeek)
	ws := m0 - pos
	k := 0
	for k < len(s.changes) && int64(s.changes[k].minute)*60 <= pos {
		k++
	}
	for {
		if k == len(s.changes) {
			k = 0
			ws += secondsPerWeek
		}
		c := s.changes[k]
		at := firstAtOrAfter(ws+int64(c.minute)*60, s.loc)
		if at.After(t1) {
			return
		}
		fn(at, c.tariff)
		k++
	}
}

// Boundaries returns the tariff changes in (t0, t1], in time order. A
// change back to the tariff already in force (possible only when several
// changes fall into one skipped hour) is not a boundary.
func (s *Schedule) Boundaries(t0, t1 time.Time) []Boundary {
	return s.AppendBoundaries(nil, t0, t1)
}

// AppendBoundaries appends the tariff changes in (t0, t1] to dst.
func (s *Schedule) AppendBoundaries(dst []Boundary, t0, t1 time.Time) []Boundary {
	base := len(dst)
	cur := s.at(t0)
	s.walk(t0, t1, func(at time.Time, tariff uint8) {
		if n := len(dst); n > base && dst[n-1].At.Equal(at) {
			dst = dst[:n-1]
			cur = s.at(t0)
			if n-1 > base {
				cur = uint8(s.Index(dst[n-2].Tariff))
			}
		}
		if tariff != cur {
			dst = append(dst, Boundary{At: at, Tariff: s.names[tariff]})
			cur = tariff
		}
	})
	return dst
}

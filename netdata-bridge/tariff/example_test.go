package tariff_test

import (
	"fmt"
	"time"
	_ "time/tzdata"

	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/tariff"
)

func Example() {
	loc, err := tariff.LoadZone("Europe/Berlin")
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := tariff.Parse("happy=00:00-07:00;normal=*", loc)
	if err != nil {
		fmt.Println(err)
		return
	}
	// 10 bytes between 06:59:59 and 07:00:02: one second of happy hour,
	// two of normal time.
	t0 := time.Date(2025, 6, 1, 6, 59, 59, 0, loc)
	for _, p := range tariff.Split(10, t0, t0.Add(3*time.Second), s) {
		fmt.Println(p.Tariff, p.Bytes)
	}
	// The night the clocks go back has a 25-hour day.
	night := time.Date(2025, 10, 25, 12, 0, 0, 0, loc)
	for _, b := range s.Boundaries(night, night.Add(25*time.Hour)) {
		fmt.Println(b.At.Format(time.RFC3339), b.Tariff)
	}
	_, err = tariff.Parse("happy=00:00-07:00", loc)
	fmt.Println(err)
	// Output:
	// happy 3
	// normal 7
	// 2025-10-26T00:00:00+02:00 happy
	// 2025-10-26T07:00:00+01:00 normal
	// no tariff covers Mon 07:00 (add a default such as normal=*)
}

func ExampleAccumulator() {
	loc, _ := tariff.LoadZone("Europe/Berlin")
	s, _ := tariff.Parse("happy=00:00-07:00;normal=*", loc)
	caps, _ := tariff.ParseCaps("normal=10kB;happy=", s)
	a, _ := tariff.NewAccumulator(s, 1, caps)
	// Two hours across midnight at the end of March: the billing cycle and
	// the tariff change at the same instant.
	a.Add(time.Date(2025, 3, 31, 23, 0, 0, 0, loc), time.Date(2025, 4, 1, 1, 0, 0, 0, loc), 7200, 800)
	a.Add(time.Date(2025, 4, 1, 8, 0, 0, 0, loc), time.Date(2025, 4, 1, 9, 0, 0, 0, loc), 2000, 500)
	start, end := a.Cycle()
	fmt.Println("cycle", start.Format("2006-01-02"), end.Format("2006-01-02"))
	fmt.Println("happy now", a.Current("happy"), "before", a.Previous("happy"))
	fmt.Println("normal now", a.Current("normal"), "before", a.Previous("normal"))
	share, _ := a.Share("normal")
	fmt.Printf("normal cap used %.1f%%\n", share)
	// Output:
	// cycle 2025-04-01 2025-05-01
	// happy now {3600 400} before {0 0}
	// normal now {2000 500} before {3600 400}
	// normal cap used 25.0%
}

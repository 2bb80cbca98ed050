package haout

import (
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ifstat-mqtt/ifstat-mqtt/discovery/hatest"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/refresh"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	bridge "github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// FuzzEmit drives Output with arbitrary samples, ticks, births and
// connects: it must never panic, every config must pass hatest, every
// state must be JSON without a negative rate.
func FuzzEmit(f *testing.F) {
	f.Add([]byte("\x00\x01eth0\x00\x00\x00\x00\x00\x00\x00\x10"))
	f.Add([]byte("\x05\x02\x03\xff\xff\xff\xff\xff\xff\xff\xff\x7f"))
	f.Add([]byte(strings.Repeat("\x00\x01a b\x01\x80\x00\x00\x00\x00\x00\x00\x01", 4)))
	names := []string{"eth0", "eth0.100", "💩0", "a/b", "", "veth1@if3", discovery0()}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec := &recorder{}
		out, err := New(testOptions(), rec, 2*time.Second, nil)
		if err != nil {
			t.Fatal(err)
		}
		out.birthDelay = 0
		next := func() uint64 {
			if len(data) < 8 {
				data = nil
				return 0
			}
			v := binary.LittleEndian.Uint64(data)
			data = data[8:]
			return v
		}
		for len(data) > 0 {
			op := data[0]
			data = data[1:]
			k := int(op>>3) % 40
			switch op % 6 {
			case 0, 1, 2:
				ns := &bridge.NodeSample{Node: "er-x", Tick: tick(k), Gap: op%3 == 2, Info: erxInfo}
				if op&0x80 != 0 {
					ns.Node = "Bad Node"
				}
				if !ns.Gap {
					ns.Reply = &wire.Reply{Node: ns.Node}
				}
				for i := 0; i < 3 && len(data) > 0; i++ {
					sel := data[0]
					data = data[1:]
					v := next()
					ns.Ifaces = append(ns.Ifaces, bridge.IfaceSample{
						Name: names[int(sel)%len(names)], Absent: sel&0x40 != 0, Obsolete: sel&0x20 != 0,
						Result: rate.Result{Rate: sel&0x10 != 0, DtNS: int64(next()), Delta: rate.Values{v, v >> 3, v >> 7}, Total: rate.Values{v, v}},
						// Any estimate, negative periods included: the
						// state must never show a negative duration.
						Refresh:   refresh.Estimate{PeriodNS: int64(v>>3) - 1<<50, AtMostNS: int64(v), Confident: sel&0x04 != 0},
						TooCoarse: sel&0x02 != 0,
					})
					if sel&0x08 != 0 {
						// Tariff data, its set varying with the tick: a
						// renamed tariff, a dropped cap, a refused name.
						u := usage(int(v%3), k, "happy")
						switch k % 4 {
						case 1:
							u.Tariffs[1].Name = "day"
						case 2:
							u.Tariffs[1].Cap = 0
						case 3:
							u.Tariffs[0].Name = "Bad Name"
						}
						ns.Ifaces[len(ns.Ifaces)-1].Tariff = u
					}
				}
				out.Emit(ns, tick(k))
			case 3:
				out.Tick(tick(k), tick(k))
			case 4:
				out.Birth(tick(k))
			case 5:
				out.Connected(tick(k))
			}
		}
		out.Tick(tick(100), tick(100))
		out.waitBirths()
		for _, m := range rec.take() {
			if strings.HasSuffix(m.Topic, "/state") {
				var s map[string]any
				if err := json.Unmarshal([]byte(m.Payload), &s); err != nil {
					t.Fatalf("state not JSON: %v: %s", err, m.Payload)
				}
				if strings.Contains(m.Payload, ":-") {
					t.Fatalf("negative value in state: %s", m.Payload)
				}
				continue
			}
			for _, err := range hatest.Validate(m.Topic, []byte(m.Payload)) {
				t.Fatalf("%s: %v", m.Topic, err)
			}
		}
	})
}

// discovery0 is a legal name that equals another name's id.
func discovery0() string { return "eth0_100_959ba6" }

package discovery

import (
	"hash/fnv"
	"strconv"
)

// configsFormat names the layout of Configs' output. Change it with any
// change to what Configs publishes for the same inputs, so that a key
// recorded by an older bridge matches no configs of this one's.
const configsFormat = "ifstat-configs/1"

// ConfigsKey is a 64-bit digest of everything Configs(o, r) depends on:
// two calls with equal keys publish the same bytes (barring a hash
// collision). A fleet bridge records the key of the configs it sent in the
// router's state copy; a bridge that takes the router over and would send
// configs of the same key leaves the retained ones in place instead of
// sending ~106 messages again. It costs a microsecond where building the
// configs costs milliseconds.
func ConfigsKey(o Options, r Router) uint64 {
	h := fnv.New64a()
	field := func(s string) {
		// Length-prefixed, so that no two sequences of fields run
		// together into the same bytes.
		h.Write(strconv.AppendInt(nil, int64(len(s)), 10))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	field(configsFormat)
	field(o.haPrefix())
	field(o.topicPrefix())
	field(o.BridgeVersion)
	field(o.interval().String())
	field(o.SampleInterval.String())
	field(strconv.FormatBool(o.Fleet))
	if !o.Fleet {
		// Configs of a single bridge name it; a fleet's do not.
		field(o.BridgeID)
	}
	field(r.Node)
	if in := r.Info; in != nil {
		field("info")
		field(in.Hostname)
		field(in.Version)
		field(in.OS)
		field(in.Arch)
		field(in.Kernel)
	} else {
		field("no info")
	}
	field(strconv.Itoa(len(r.Ifaces)))
	for _, name := range r.Ifaces {
		field(name)
	}
	field(strconv.Itoa(len(r.Tariffs)))
	for _, t := range r.Tariffs {
		field(t.Name)
		field(strconv.FormatBool(t.Capped))
	}
	return h.Sum64()
}

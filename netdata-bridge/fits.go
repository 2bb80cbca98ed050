package bridge

import (
	"encoding/json"

	"github.com/ifstat-mqtt/ifstat-mqtt/internal/refresh"
	"github.com/ifstat-mqtt/ifstat-mqtt/internal/wire"
	"github.com/ifstat-mqtt/ifstat-mqtt/netdata-bridge/rate"
)

// fitKey names the refresh fits in a node's persisted state (NodeState.Extra).
const fitKey = "refresh"

// persistedFit is one interface's entry under fitKey: the change windows
// its Estimator fits (refresh.Pack) and the agent's boot they were seen
// in. Windows are instants of the router's CLOCK_BOOTTIME, meaningless in
// another boot.
type persistedFit struct {
	BootID  string  `json:"boot_id"`
	Windows []int64 `json:"windows"`
}

// A node's fits are bounded so that its retained message stays far under
// state.MaxNodeSize, which a node of wire.MaxIfaces interfaces would
// otherwise pass (1.3 kB of windows each; DecodeNode would then refuse
// the totals too). maxFitWindows windows (about 80 kB) are shared among
// the interfaces, each keeping its latest, but never fewer than
// minFitWindows: a fit restored from fewer would hardly be confident
// before new windows replace it. A common router (8 interfaces of 64
// windows) keeps all.
const (
	maxFitWindows = 4096
	minFitWindows = 2 * refresh.DefaultMinWindows
)

// capFits trims all to maxFitWindows windows: the latest of each
// interface, and, where even minFitWindows each are too many, only the
// first interfaces by name.
func capFits(all map[string]persistedFit) {
	per := min(refresh.DefaultHistory, max(minFitWindows, maxFitWindows/len(all)))
	for i, name := range sortedKeys(all) {
		p := all[name]
		if i >= maxFitWindows/per {
			delete(all, name)
			continue
		}
		if len(p.Windows) <= 2*per {
			continue
		}
		ws, err := refresh.Unpack(p.Windows, len(p.Windows)/2)
		if err != nil {
			delete(all, name)
			continue
		}
		p.Windows = refresh.Pack(ws[len(ws)-per:])
		all[name] = p
	}
}

// restoreFit gives est the persisted windows of node's interface name when
// they belong to r's boot and end before r was read, within their
// refresh.Reach: further on, the fit could miscount the refreshes across
// the gap and would stay unconfident until the old windows left its
// history, worse than starting empty. Anything else, including damaged
// state, leaves est empty: the fit is rebuilt from the replies, as
// without a checkpoint.
func (s *Sampler) restoreFit(node, name string, est *refresh.Estimator, r *wire.Reply) {
	raw, ok := s.restored[node].Extra[fitKey]
	if !ok {
		return
	}
	var all map[string]persistedFit
	if json.Unmarshal(raw, &all) != nil {
		return
	}
	p, ok := all[name]
	if !ok || p.BootID == "" || p.BootID != r.BootID {
		return
	}
	ws, err := refresh.Unpack(p.Windows, refresh.DefaultHistory)
	if err != nil || len(ws) == 0 {
		return
	}
	if last := ws[len(ws)-1].ChangedNS; last > r.MonoNS || r.MonoNS-last > refresh.Reach(ws) {
		return
	}
	_ = est.Restore(ws) // refused: est stays empty
}

// snapshotFits returns the fitKey entry of a node's state: the restored
// entries of interfaces not seen again, overwritten by the live ones. cps
// are the node's checkpoints, whose BootID is the boot of the live
// windows: the Estimator starts over whenever the tracker resets.
func snapshotFits(a *agent, cps map[string]rate.Checkpoint, restored json.RawMessage) json.RawMessage {
	all := map[string]persistedFit{}
	if restored != nil && json.Unmarshal(restored, &all) != nil {
		all = map[string]persistedFit{}
	}
	// An interface not seen again keeps its entry while its boot may
	// still be the agent's; one that no live interface is in is over.
	boots := map[string]bool{}
	for name := range a.ifaces {
		boots[cps[name].BootID] = true
	}
	for name, p := range all {
		if _, live := a.ifaces[name]; !live && !boots[p.BootID] {
			delete(all, name)
		}
	}
	for name, f := range a.ifaces {
		ws, boot := f.est.Changes(), cps[name].BootID
		if len(ws) == 0 || boot == "" {
			// Nothing to keep, and a restored entry was either used
			// or refused.
			delete(all, name)
			continue
		}
		all[name] = persistedFit{BootID: boot, Windows: refresh.Pack(ws)}
	}
	if len(all) == 0 {
		return nil
	}
	capFits(all)
	b, err := json.Marshal(all)
	if err != nil {
		return nil
	}
	return b
}

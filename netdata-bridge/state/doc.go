// Package state persists the bridge's per-interface rate checkpoints
// (rate.Checkpoint: totals, baselines, boot ids), so that totals survive a
// bridge restart and a replacement bridge on another host can take over.
//
// A Snapshot is the state of one bridge: per node, per interface, a
// checkpoint, and Extra room for what later features keep per node (tariff
// totals, refresh fits, the key of the Home Assistant configs sent). It travels in two places:
//
//   - a file, STATE_DIR/state.json, written by Save atomically (a temp file
//     in the same folder, fsync, rename, fsync of the folder) and read by
//     Load; a missing file is (nil, nil), a damaged one an error;
//   - retained MQTT messages, one per node, on P/bridge/<bridge>/state/<node>,
//     or, for a fleet of auto bridges, on P/fleet/state/<node>, which every
//     member reads (wire.StateTopics). One message per node rather than one
//     for the whole bridge: 2,000 nodes of 8 interfaces encode to several MB
//     (see TestEncodedSize), too much for one retained message, while a node
//     is a few kB; and a node's state can be written when it changes.
//
// Both carry the same JSON ("version": 1); a message is a Snapshot with one
// node. On start the bridge merges the file with the retained messages
// (Merge keeps, per node, the newer by Saved then Seq); Newest compares
// whole snapshots. Every decoder caps the size, validates every field and
// returns an error, never panics: a retained message may come from any
// client allowed to write the topic.
//
// What it leaves to others: when and how often to save, publishing and
// subscribing (the bridge owns the MQTT client), deleting the retained
// message of a node that is gone (an empty retained payload), and what a
// tariff or a refresh fit keeps in Extra.
package state

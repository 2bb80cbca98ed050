// Package netdevtest writes fake proc and sys trees for tests of code that
// reads interface counters: /proc/net/dev in the kernel's exact format,
// /proc/sys/kernel/random/boot_id and /sys/class/net/<if>/{ifindex,speed},
// rewritten between reads to play wraps, resets and re-created interfaces.
//
// It only writes files; parsing them is package netdev's job.
package netdevtest

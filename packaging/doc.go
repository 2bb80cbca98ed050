// Package packaging holds the files that install ifstat-mqtt on its
// platforms — EdgeOS (edgeos/), OpenWrt (openwrt/), systemd hosts
// (systemd/) and Netdata (netdata/) — and the tests that check them: the
// shell scripts parse, the systemd units pass systemd-analyze verify, the
// OpenWrt init script maps UCI options to IFSTAT_* variables, the Netdata
// installer finds the plugins directory of each kind of install, and
// scripts/release.sh builds an archive whose mipsle agent runs under
// qemu-mipsel as an ER-X.
//
// There is no Go code here. What the programs do with their settings is
// internal/config's and their packages'; the container files are docker/'s.
package packaging

package netdev

import "golang.org/x/sys/unix"

// Uname returns the kernel release ("4.14.54-UBNT") and machine ("mips")
// from uname(2), or empty strings if it fails. The agent puts them in its
// info payload; the release tells a 32-bit-counter kernel from a newer one.
func Uname() (release, machine string) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", ""
	}
	return unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Machine[:])
}

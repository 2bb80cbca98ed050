package plugind

import (
	"strconv"
	"strings"
)

// Features lists the protocol additions after Netdata 1.37 that the running
// Netdata understands. The zero value is the 1.37 set: only keywords every
// supported version knows.
type Features struct {
	// VirtualNodes: HOST_DEFINE, HOST_LABEL, HOST_DEFINE_END and HOST
	// (Netdata >= 1.39.0). Netdata 1.37 kills a plugin that sends them.
	VirtualNodes bool
	// FloatDims: DIMENSION option type=float (Netdata >= 2.10). Informational:
	// this writer emits integers only and never sends the option.
	FloatDims bool
	// TrustDurations: TRUST_DURATIONS (Netdata >= 2.7).
	TrustDurations bool
}

// ParseFeatures returns the features of the Netdata whose version string is
// given, as found in the NETDATA_VERSION environment variable of a plugin:
// "v1.37.1", "1.44.0", "v2.7.0-nightly", "v1.39.0-rc0". Only major and minor
// count; anything after them is ignored. An empty or unparsable version yields
// the 1.37 set, which every supported Netdata accepts.
func ParseFeatures(netdataVersion string) Features {
	major, minor, ok := parseVersion(netdataVersion)
	if !ok {
		return Features{}
	}
	atLeast := func(maj, min int) bool {
		return major > maj || (major == maj && minor >= min)
	}
	return Features{
		VirtualNodes:   atLeast(1, 39),
		FloatDims:      atLeast(2, 10),
		TrustDurations: atLeast(2, 7),
	}
}

// parseVersion reads "[v]MAJOR.MINOR" from the start of s.
func parseVersion(s string) (major, minor int, ok bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V")
	majStr, rest, found := strings.Cut(s, ".")
	if !found {
		return 0, 0, false
	}
	minStr := rest
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minStr = rest[:i]
	}
	major, err1 := strconv.Atoi(majStr)
	minor, err2 := strconv.Atoi(minStr)
	// Atoi accepts a sign; a version never has one.
	if err1 != nil || err2 != nil || strings.ContainsAny(majStr+minStr, "+-") {
		return 0, 0, false
	}
	return major, minor, true
}

// FunctionsSupported reports whether the Netdata of version netdataVersion
// (as in [ParseFeatures]) knows FUNCTION and FUNCTION_RESULT_BEGIN (1.37
// and later). Unlike the zero Features it is false for an empty or
// unparsable version: an older Netdata stops a plugin that sends an unknown
// keyword, and only a known Netdata sends function calls.
func FunctionsSupported(netdataVersion string) bool {
	major, minor, ok := parseVersion(netdataVersion)
	return ok && (major > 1 || major == 1 && minor >= 37)
}

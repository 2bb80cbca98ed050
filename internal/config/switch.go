package config

import (
	"errors"
	"strings"
)

// Switch is an on/off variable. It implements envconfig.Decoder, so a bad
// value is caught while loading, with one message naming the variable.
type Switch bool

// Decode accepts on and off, in any case.
func (s *Switch) Decode(v string) error {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on":
		*s = true
	case "off":
		*s = false
	default:
		return errors.New("must be on or off")
	}
	return nil
}

// String returns on or off, the way the variable is written.
func (s Switch) String() string {
	if s {
		return "on"
	}
	return "off"
}

// Auto is an auto/on/off variable: auto leaves the choice to the binary,
// which knows how it was started. The zero value is auto.
type Auto uint8

// The values of an Auto.
const (
	AutoDetect Auto = iota
	AutoOn
	AutoOff
)

// Decode accepts auto, on and off, in any case.
func (a *Auto) Decode(v string) error {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "auto":
		*a = AutoDetect
	case "on":
		*a = AutoOn
	case "off":
		*a = AutoOff
	default:
		return errors.New("must be auto, on or off")
	}
	return nil
}

// On reports whether the feature runs, given what auto means here.
func (a Auto) On(auto bool) bool {
	switch a {
	case AutoOn:
		return true
	case AutoOff:
		return false
	}
	return auto
}

// String returns auto, on or off.
func (a Auto) String() string {
	switch a {
	case AutoOn:
		return "on"
	case AutoOff:
		return "off"
	}
	return "auto"
}

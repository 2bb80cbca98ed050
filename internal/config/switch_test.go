package config

import "testing"

func TestSwitchAndAuto(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in      string
		sw      Switch
		swErr   bool
		auto    Auto
		autoErr bool
	}{
		{in: "on", sw: true, auto: AutoOn},
		{in: "OFF", sw: false, auto: AutoOff},
		{in: " on ", sw: true, auto: AutoOn},
		{in: "auto", swErr: true, auto: AutoDetect},
		{in: "", swErr: true, autoErr: true},
		{in: "yes", swErr: true, autoErr: true},
		{in: "1", swErr: true, autoErr: true},
	} {
		var s Switch
		if err := s.Decode(tt.in); (err != nil) != tt.swErr || err == nil && s != tt.sw {
			t.Errorf("Switch.Decode(%q) = %v, %v; want %v, error %v", tt.in, s, err, tt.sw, tt.swErr)
		}
		a := Auto(99)
		if err := a.Decode(tt.in); (err != nil) != tt.autoErr || err == nil && a != tt.auto {
			t.Errorf("Auto.Decode(%q) = %v, %v; want %v, error %v", tt.in, a, err, tt.auto, tt.autoErr)
		}
	}
	for _, tt := range []struct {
		a          Auto
		auto, want bool
	}{
		{AutoDetect, true, true}, {AutoDetect, false, false},
		{AutoOn, false, true}, {AutoOff, true, false},
	} {
		if got := tt.a.On(tt.auto); got != tt.want {
			t.Errorf("%v.On(%v) = %v, want %v", tt.a, tt.auto, got, tt.want)
		}
	}
	if Switch(true).String() != "on" || AutoDetect.String() != "auto" || AutoOff.String() != "off" {
		t.Error("String does not give the value as written")
	}
}

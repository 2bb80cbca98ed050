// Package config loads settings from the environment (prefix IFSTAT_) with
// github.com/kelseyhightower/envconfig, optionally layered over a KEY=VALUE
// file, and turns every problem into an *Error that names the variable, so
// each binary can print one line and exit with code 2.
//
// Each binary declares its own struct embedding Common and its own Validate;
// this package holds what they share.
package config

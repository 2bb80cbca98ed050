// Command ifstat-agent runs on a router: it answers each request on
// P/N/request with one fresh read of the interface counters on P/N/reply.
// Configuration comes from IFSTAT_* variables (see -h), optionally layered
// over a KEY=VALUE file given with -config.
//
// This is a thin main: flags, configuration, logging and memory limits;
// everything else is in package publisher.
package main

package proctest

import (
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// DefaultGuard bounds how long a signalled process may take to exit; a
// failure guard, never a measurement.
const DefaultGuard = 60 * time.Second

// Option adjusts a process before Start starts it.
type Option func(*options)

type options struct {
	args   []string
	stdout io.Writer
	prep   func(*exec.Cmd)
	guard  time.Duration
	tail   int
}

// Args are the command-line arguments after the program name.
func Args(args ...string) Option { return func(o *options) { o.args = args } }

// Stdout sends the process's standard output to w (nil: /dev/null)
// instead of the buffer Proc.Stdout reads.
func Stdout(w io.Writer) Option {
	return func(o *options) {
		if w == nil {
			w = io.Discard
		}
		o.stdout = w
	}
}

// Prep adjusts the command last, after the defaults; a Prep that sets
// SysProcAttr replaces the default parent-death signal.
func Prep(f func(*exec.Cmd)) Option { return func(o *options) { o.prep = f } }

// Guard replaces DefaultGuard for this process.
func Guard(d time.Duration) Option { return func(o *options) { o.guard = d } }

// LogTail logs only the last n lines of stderr when the test failed
// (default: all of it).
func LogTail(n int) Option { return func(o *options) { o.tail = n } }

// Proc is one process a test started.
type Proc struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr *LockedBuffer
	guard          time.Duration
	done           chan struct{}
	err            error // Wait's result, set before done is closed
}

// Start runs bin with exactly env as its environment (nothing inherited,
// so the test's own IFSTAT_* variables cannot leak in; nil is empty). The
// process gets SIGKILL if the test binary dies. A cleanup SIGKILLs it by
// its PID if it still runs, reaps it, and logs its stderr if the test
// failed. name identifies it in messages.
func Start(t testing.TB, name, bin string, env []string, opts ...Option) *Proc {
	t.Helper()
	o := options{guard: DefaultGuard}
	for _, opt := range opts {
		opt(&o)
	}
	if env == nil {
		env = []string{}
	}
	p := &Proc{name: name, cmd: exec.Command(bin, o.args...), stdout: &LockedBuffer{}, stderr: &LockedBuffer{},
		guard: o.guard, done: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if o.stdout != nil {
		p.cmd.Stdout = o.stdout
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if o.prep != nil {
		o.prep(p.cmd)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill(t)
		if t.Failed() {
			t.Logf("%s (pid %d) stderr:\n%s", name, p.PID(), tail(p.stderr.String(), o.tail))
		}
	})
	return p
}

// PID is the process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Stdout holds what the process wrote to stdout, unless the Stdout
// option sent it elsewhere.
func (p *Proc) Stdout() *LockedBuffer { return p.stdout }

// Stderr holds what the process wrote to stderr.
func (p *Proc) Stderr() *LockedBuffer { return p.stderr }

// Cmd is the started command; its ProcessState is set once Done is
// closed.
func (p *Proc) Cmd() *exec.Cmd { return p.cmd }

// Done is closed once the process has exited and been reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited and been reaped.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is exec.Cmd.Wait's result once Done is closed (nil before): nil
// for exit status 0.
func (p *Proc) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// State is the exited process's state, nil while it runs.
func (p *Proc) State() *os.ProcessState {
	if !p.Exited() {
		return nil
	}
	return p.cmd.ProcessState
}

// Signal sends sig to the process by its PID unless it has exited, and
// waits until it has exited. Past the guard the test fails and the
// process is killed.
func (p *Proc) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(p.guard):
		t.Errorf("%s (pid %d) did not exit within %v of %v", p.name, p.PID(), p.guard, sig)
		_ = p.cmd.Process.Kill()
	}
}

// Kill is Signal(t, SIGKILL).
func (p *Proc) Kill(t testing.TB) {
	t.Helper()
	p.Signal(t, syscall.SIGKILL)
}

// Wait waits for the process to exit on its own and returns Err; past
// the guard it fails the test at once.
func (p *Proc) Wait(t testing.TB) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(p.guard):
		t.Fatalf("%s (pid %d) did not exit within %v", p.name, p.PID(), p.guard)
		return nil
	}
}

// tail returns the last n lines of s, all of them if n <= 0.
func tail(s string, n int) string {
	if n <= 0 {
		return s
	}
	l := strings.SplitAfter(s, "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "")
}

// SkipShort skips the test with -short: what says what it runs (processes,
// a broker, waits on the wall clock) that -short leaves out.
func SkipShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skip(what + "; skipped with -short")
	}
}

// SkipRace skips a test that judges real processes' timing (the agent's
// reads pinned to a driver's refreshes, an alarm within a minute) when
// the race detector is built in: it slows every process 5-10 times, and
// such a test then fails for the machine's speed, not for the code (the
// agent gave up fitting one clock of four beside two busy loops, its
// chart 2.3 % off). CI runs the suite both ways: these tests run in the
// plain pass.
func SkipRace(t testing.TB, what string) {
	t.Helper()
	if Race {
		t.Skip(what + "; judges timing, skipped under the race detector (it runs without it)")
	}
}

package brokertest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// defaultListener is the reserved name of the listener behind URL.
const defaultListener = "default"

// process runs mosquitto as a child process.
type process struct {
	bin     string
	conf    string // mosquitto.conf
	logPath string // log_dest file
	errPath string // mosquitto's stdout and stderr: errors before the log opens

	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been waited for
}

// authDirective matches WithConfig lines that take over authentication.
var authDirective = regexp.MustCompile(`(?m)^\s*(allow_anonymous|password_file|plugin|auth_plugin)\s`)

// config renders mosquitto.conf for b.
func (p *process) config(b *Broker) string {
	var c strings.Builder
	c.WriteString("# written by internal/brokertest\n")
	// As root, mosquitto 2.x would setuid to "mosquitto", who cannot open
	// the 0700 t.TempDir(); "root" means stay as we are.
	c.WriteString("user root\n")
	c.WriteString("persistence false\n")
	fmt.Fprintf(&c, "log_dest file %s\n", p.logPath)
	for _, t := range []string{"error", "warning", "notice", "information", "subscribe", "unsubscribe"} {
		fmt.Fprintf(&c, "log_type %s\n", t)
	}
	c.WriteString("connection_messages true\n")
	c.WriteString("log_timestamp true\n")
	c.WriteString("log_timestamp_format %Y-%m-%dT%H:%M:%S\n")
	if !authDirective.MatchString(b.extra) {
		c.WriteString("allow_anonymous true\n")
	}
	c.WriteString(b.extra)
	fmt.Fprintf(&c, "listener %d 127.0.0.1\n", b.port)
	for _, l := range b.listeners {
		fmt.Fprintf(&c, "# %s\nlistener %d 127.0.0.1\n", l.name, l.port)
		if l.tls != nil {
			fmt.Fprintf(&c, "certfile %s\nkeyfile %s\n", l.tls.CertFile, l.tls.KeyFile)
			if l.tls.CAFile != "" {
				fmt.Fprintf(&c, "cafile %s\n", l.tls.CAFile)
			}
			if l.tls.RequireCertificate {
				c.WriteString("require_certificate true\n")
			}
		}
		if l.lines != "" {
			c.WriteString(strings.TrimRight(l.lines, "\n") + "\n")
		}
	}
	return c.String()
}

// newProcess prepares to run bin with its files in dir.
func newProcess(bin, dir string) *process {
	return &process{
		bin:     bin,
		conf:    filepath.Join(dir, "mosquitto.conf"),
		logPath: filepath.Join(dir, "mosquitto.log"),
		errPath: filepath.Join(dir, "mosquitto.stderr"),
	}
}

func (p *process) start(b *Broker) error {
	if err := os.WriteFile(p.conf, []byte(p.config(b)), 0o600); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	// Both files are appended to across restarts; only what follows these
	// offsets belongs to this start.
	logOff, errOff := fileSize(p.logPath), fileSize(p.errPath)

	out, err := os.OpenFile(p.errPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening stderr file: %w", err)
	}
	defer out.Close() // the child holds its own copy
	cmd := exec.Command(p.bin, "-c", p.conf)
	cmd.Dir = b.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own process group: a ^C at the terminal reaches only go test,
		// whose cleanups stop the broker in order.
		Setpgid: true,
		// If the test binary dies (timeout panic), do not leave an orphan
		// broker holding a port.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", p.bin, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait() // the exit status is reported through the log
		close(done)
	}()
	p.cmd, p.done = cmd, done

	// "mosquitto version … running" is logged after every listener is
	// bound, so a port taken by someone else is never mistaken for ours.
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-done:
			msg := readFrom(p.logPath, logOff) + readFrom(p.errPath, errOff)
			if strings.Contains(msg, "Address already in use") {
				return fmt.Errorf("%s exited (%v): %w", p.bin, cmd.ProcessState, errAddrInUse)
			}
			return fmt.Errorf("%s exited (%v):\n%s", p.bin, cmd.ProcessState, msg)
		default:
		}
		if strings.Contains(readFrom(p.logPath, logOff), " running") {
			break
		}
		if time.Now().After(deadline) {
			p.stop(true)
			return fmt.Errorf("%s not running after %v", p.bin, readyTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	alive := func() error {
		select {
		case <-done:
			return fmt.Errorf("%s exited (%v)", p.bin, cmd.ProcessState)
		default:
			return nil
		}
	}
	if err := waitTCP(b.addr(), deadline, alive); err != nil {
		p.stop(true)
		return err
	}
	return nil
}

func (p *process) stop(kill bool) {
	if p.cmd == nil {
		return
	}
	if kill {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	} else {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		// A paused broker keeps SIGTERM pending until it runs again.
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
	}
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

func (p *process) pause() error   { return p.cmd.Process.Signal(syscall.SIGSTOP) }
func (p *process) resume() error  { return p.cmd.Process.Signal(syscall.SIGCONT) }
func (p *process) embedded() bool { return false }

func (p *process) pid() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

func (p *process) log() string {
	s := readFrom(p.logPath, 0)
	if e := readFrom(p.errPath, 0); e != "" {
		s += "--- stdout/stderr ---\n" + e
	}
	return s
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readFrom returns the file's content after off, or "" if it cannot be read.
func readFrom(path string, off int64) string {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return ""
		}
		return fmt.Sprintf("(reading %s: %v)\n", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() <= off {
		return ""
	}
	buf := make([]byte, fi.Size()-off)
	n, _ := f.ReadAt(buf, off)
	return string(buf[:n])
}

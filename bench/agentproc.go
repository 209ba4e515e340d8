package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"
)

// agentProc is one running agent process.
type agentProc struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	err     error // valid after done
	log     *os.File
	// stopping is set once the harness signalled the process.
	stopping atomic.Bool
}

func startAgent(argv, env []string, logPath string) (*agentProc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", logPath, err)
	}
	fmt.Fprintf(logf, "### %s start: %q\n", time.Now().Format(time.RFC3339Nano), argv)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	p := &agentProc{cmd: cmd, started: time.Now(), done: make(chan struct{}), log: logf}
	go func() {
		p.err = cmd.Wait()
		fmt.Fprintf(logf, "### %s exit: %v\n", time.Now().Format(time.RFC3339Nano), p.err)
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *agentProc) pid() int { return p.cmd.Process.Pid }

func (p *agentProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig and waits up to grace for the exit, then kills the whole
// process group. It returns how long the exit took.
func (p *agentProc) stop(sig syscall.Signal, grace time.Duration) (time.Duration, error) {
	t0 := time.Now()
	p.stopping.Store(true)
	if p.exited() {
		return 0, p.err
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
		<-p.done
		return time.Since(t0), fmt.Errorf("no exit %v after %v: killed", sig, grace)
	}
	took := time.Since(t0)
	if sig == syscall.SIGKILL {
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL) // leftovers of a wrapper
		return took, nil
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return took, fmt.Errorf("exit after %v: %w", sig, p.err)
	}
	return took, p.err
}

// cpu is the CPU time of a finished process (and the children it waited
// for), from its rusage. Its ru_maxrss is not used: Linux keeps in it the
// resident size the forked copy of the harness had before exec.
func (p *agentProc) cpu() time.Duration {
	st := p.cmd.ProcessState
	if st == nil {
		return 0
	}
	return st.UserTime() + st.SystemTime()
}

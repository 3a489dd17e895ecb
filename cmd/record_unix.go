//go:build unix

package cmd

import (
	"os"
	"os/exec"
	"syscall"
)

// forwardedSignals are passed on to the recorded command. SIGHUP too: the
// command has its own process group, so a closing terminal would not reach it.
var forwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// ownProcessGroup puts the command in a process group of its own, so that
// a terminal's Ctrl-C reaches it once, forwarded by record, rather than
// twice (many programs take a second interrupt as "quit now"), and so that
// the signal reaches the processes it starts as a terminal's would. Where
// the system can, the command is killed when record dies.
func ownProcessGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(c.SysProcAttr)
}

// signalGroup sends sig to the command's process group.
func signalGroup(p *os.Process, sig os.Signal) {
	if err := syscall.Kill(-p.Pid, sig.(syscall.Signal)); err != nil {
		p.Signal(sig)
	}
}

func killGroup(p *os.Process) { signalGroup(p, syscall.SIGKILL) }

// terminate is the signal that asks the command to stop.
var terminate os.Signal = syscall.SIGTERM

// exitStatus is the command's exit code, 128+N when signal N killed it (as
// shells report it).
func exitStatus(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

//go:build !unix

package cmd

import (
	"os"
	"os/exec"
)

var forwardedSignals = []os.Signal{os.Interrupt}

func ownProcessGroup(*exec.Cmd) {}

// signalGroup signals the command; where it cannot be (Windows has no
// interrupt to send), the command is killed.
func signalGroup(p *os.Process, sig os.Signal) {
	if err := p.Signal(sig); err != nil {
		p.Kill()
	}
}

func killGroup(p *os.Process) { p.Kill() }

var terminate os.Signal = os.Kill

func exitStatus(ps *os.ProcessState) int {
	if c := ps.ExitCode(); c >= 0 {
		return c
	}
	return 1
}

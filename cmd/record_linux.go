package cmd

import "syscall"

// dieWithParent has the kernel kill the command when record dies, even by
// SIGKILL or a crash, instead of leaving it orphaned and still exporting
// to a closed port. SIGKILL, not SIGTERM: nobody is left to escalate if
// the command ignores or outlives a polite signal. (The signal follows the
// death of the OS thread that started the command; Go keeps its threads
// unless a goroutine exits locked to one, which record never does.)
func dieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }

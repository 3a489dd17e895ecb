//go:build unix && !linux

package cmd

import "syscall"

// dieWithParent: only Linux has a parent-death signal for a child of any
// process; elsewhere the command outlives a record killed by SIGKILL.
func dieWithParent(*syscall.SysProcAttr) {}

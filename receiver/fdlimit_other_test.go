//go:build !unix

package receiver

func openFiles() int { return 4096 }

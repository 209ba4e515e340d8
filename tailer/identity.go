package tailer

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// fingerprintBytes is the most bytes of a file's start that its fingerprint
// covers. A shorter file's fingerprint covers all of it and grows with it.
const fingerprintBytes = 1024

// fileID is a file's device and inode.
type fileID struct {
	Dev, Ino uint64
}

func (id fileID) String() string { return fmt.Sprintf("%d:%d", id.Dev, id.Ino) }

// idOf returns the device and inode of a stat result.
func idOf(fi os.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}
	}
	return fileID{}
}

// linksOf returns a stat result's link count; 0 means deleted.
func linksOf(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}

// fingerprint is a hash of a file's first N bytes. With the device and
// inode it tells a file from a later one that reuses its inode, and a file
// from itself after copytruncate.
type fingerprint struct {
	N   int    // bytes covered
	Sum uint64 // FNV-1a of them
}

// readFingerprint hashes the first n bytes of f.
func readFingerprint(f *os.File, n int) (fingerprint, error) {
	var buf [fingerprintBytes]byte
	if n > len(buf) {
		n = len(buf)
	}
	got, err := f.ReadAt(buf[:n], 0)
	if got < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fingerprint{}, err
	}
	return fingerprintOf(buf[:n]), nil
}

// fingerprintOf hashes b, a file's first bytes.
func fingerprintOf(b []byte) fingerprint {
	const offset64, prime64 = 14695981039346656037, 1099511628211
	sum := uint64(offset64)
	for _, c := range b {
		sum ^= uint64(c)
		sum *= prime64
	}
	return fingerprint{N: len(b), Sum: sum}
}

// matches reports whether f still starts with the bytes fp was taken from.
func (fp fingerprint) matches(f *os.File) (bool, error) {
	if fp.N == 0 {
		return true, nil
	}
	now, err := readFingerprint(f, fp.N)
	if err == io.ErrUnexpectedEOF {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return now == fp, nil
}

package cwlocal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
)

// The journal is the persisted store: a file of records, each a uvarint
// length followed by that many bytes: an op byte and its fields (strings as
// uvarint length + bytes, integers as varints). Every change is appended
// before the request is answered; at start the file is replayed. A torn last
// record (a crash during a write) is cut off and reported.
const (
	journalFile    = "cwlocal.journal"
	journalVersion = "cwlocal-journal-v1\n"
)

const (
	jCreateGroup byte = iota + 1
	jDeleteGroup
	jCreateStream
	jDeleteStream
	jRetention
	jPut
	jProtection
)

type journal struct {
	f   *os.File
	w   *bufio.Writer
	buf []byte
}

// openJournal replays Dir's journal into the store, rewrites it compacted
// (what was deleted is gone, a torn tail is cut) and opens it for appending.
func (s *Server) openJournal(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	path := filepath.Join(dir, journalFile)
	if f, err := os.Open(path); err == nil {
		err = s.replay(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("replay %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("open %s: %w", path, err)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", tmp, err)
	}
	s.store.journal = &journal{f: f, w: bufio.NewWriterSize(f, 64<<10)}
	if err := s.writeSnapshot(); err != nil {
		f.Close()
		s.store.journal = nil
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		s.store.journal = nil
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		f.Close()
		s.store.journal = nil
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// writeSnapshot writes the header and the whole store as records.
func (s *Server) writeSnapshot() error {
	st := s.store
	if _, err := st.journal.w.WriteString(journalVersion); err != nil {
		return err
	}
	for _, name := range st.sortedGroupNames() {
		g := st.groups[name]
		if aerr := s.journalGroup(g); aerr != nil {
			return aerr
		}
		for _, stm := range g.streams {
			if aerr := s.journalSimple(jCreateStream, g.name, stm.name, stm.created); aerr != nil {
				return aerr
			}
			stm.sortEvents()
			var batch []inEvent
			size := 0
			for i := range stm.evs {
				e := &stm.evs[i]
				if len(batch) > 0 && (len(batch) == MaxBatchEvents || size+int(e.n) > MaxBatchBytes || stm.evs[i-1].ingest != e.ingest) {
					if aerr := s.journalPut(g.name, stm.name, batch, stm.evs[i-1].ingest); aerr != nil {
						return aerr
					}
					batch, size = batch[:0], 0
				}
				batch = append(batch, inEvent{ts: e.ts, msg: stm.message(e)})
				size += int(e.n)
			}
			if len(batch) > 0 {
				if aerr := s.journalPut(g.name, stm.name, batch, stm.evs[len(stm.evs)-1].ingest); aerr != nil {
					return aerr
				}
			}
		}
	}
	return st.journal.w.Flush()
}

func (s *Server) closeJournal() error {
	j := s.store.journal
	if j == nil {
		return nil
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	err := j.w.Flush()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	s.store.journal = nil
	return err
}

// replay applies the journal's records up to the first torn or corrupt one.
func (s *Server) replay(f *os.File) error {
	r := bufio.NewReaderSize(f, 1<<20)
	head := make([]byte, len(journalVersion))
	if _, err := io.ReadFull(r, head); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		return err
	}
	if string(head) != journalVersion {
		return fmt.Errorf("not a cwlocal journal (header %q)", head)
	}
	off := int64(len(head))
	var rec []byte
	records := 0
	for {
		n, err := binary.ReadUvarint(r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil && n > 64<<20 {
			err = fmt.Errorf("record of %d bytes", n)
		}
		if err == nil {
			rec = append(rec[:0], make([]byte, n)...)
			_, err = io.ReadFull(r, rec)
		}
		if err == nil {
			err = s.apply(rec)
		}
		if err != nil {
			s.log.Warn("cwlocal: journal ends with a torn or corrupt record; dropping it", "offset", off, "records", records, "err", err)
			break
		}
		off += int64(uvarintLen(n)) + int64(n)
		records++
	}
	s.log.Info("cwlocal: journal replayed", "records", records, "groups", len(s.store.groups), "bytes", s.store.bytes)
	return nil
}

func uvarintLen(n uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], n)
}

// dec reads the fields of one record.
type dec struct {
	b   []byte
	err error
}

func (d *dec) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("short record")
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errors.New("short record")
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) bytes() []byte {
	n := d.uvarint()
	if uint64(len(d.b)) < n {
		d.err = errors.New("short record")
		d.b = nil
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) str() string { return string(d.bytes()) }

// apply replays one record into the store.
func (s *Server) apply(rec []byte) error {
	if len(rec) == 0 {
		return errors.New("empty record")
	}
	st := s.store
	d := dec{b: rec[1:]}
	switch rec[0] {
	case jCreateGroup:
		g := &group{name: d.str(), created: d.varint(), retention: int32(d.varint()), class: d.str(), kmsKeyID: d.str(), protection: d.varint() == 1}
		if n := d.uvarint(); n > 0 && d.err == nil {
			g.tags = make(map[string]string, n)
			for range n {
				k := d.str()
				g.tags[k] = d.str()
			}
		}
		if d.err == nil {
			st.createGroup(g)
		}
	case jDeleteGroup:
		if g := st.groups[d.str()]; g != nil {
			st.deleteGroup(g)
		}
	case jCreateStream:
		gname, sname, created := d.str(), d.str(), d.varint()
		if g := st.groups[gname]; g != nil && d.err == nil {
			st.createStream(g, sname, created)
		}
	case jDeleteStream:
		g, stm, aerr := st.lookup(d.str(), d.str())
		if aerr == nil {
			st.deleteStream(g, stm)
		}
	case jRetention:
		gname, days := d.str(), d.varint()
		if g := st.groups[gname]; g != nil {
			g.retention = int32(days)
		}
	case jProtection:
		gname, on := d.str(), d.varint()
		if g := st.groups[gname]; g != nil {
			g.protection = on == 1
		}
	case jPut:
		gname, sname, ingest := d.str(), d.str(), d.varint()
		n := d.uvarint()
		if n > MaxBatchEvents {
			return fmt.Errorf("put record with %d events", n)
		}
		evs := make([]inEvent, 0, n)
		for range n {
			evs = append(evs, inEvent{ts: d.varint(), msg: d.bytes()})
		}
		g, stm, aerr := st.lookup(gname, sname)
		if d.err == nil && aerr == nil {
			st.appendEvents(g, stm, evs, ingest)
		}
	default:
		return fmt.Errorf("unknown record type %d", rec[0])
	}
	return d.err
}

// write appends one record; the caller holds the store lock.
func (s *Server) journalWrite(rec []byte) *apiError {
	j := s.store.journal
	var lenBuf [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(lenBuf[:], uint64(len(rec)))
	j.w.Write(lenBuf[:n])
	j.w.Write(rec)
	if err := j.w.Flush(); err != nil {
		s.log.Error("cwlocal: journal write failed", "err", err)
		return &apiError{http.StatusInternalServerError, "ServiceUnavailableException", fmt.Sprintf("cwlocal could not persist the change: %v", err)}
	}
	return nil
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (s *Server) journalGroup(g *group) *apiError {
	j := s.store.journal
	if j == nil {
		return nil
	}
	b := append(j.buf[:0], jCreateGroup)
	b = appendStr(b, g.name)
	b = binary.AppendVarint(b, g.created)
	b = binary.AppendVarint(b, int64(g.retention))
	b = appendStr(b, g.class)
	b = appendStr(b, g.kmsKeyID)
	prot := int64(0)
	if g.protection {
		prot = 1
	}
	b = binary.AppendVarint(b, prot)
	b = binary.AppendUvarint(b, uint64(len(g.tags)))
	for k, v := range g.tags {
		b = appendStr(appendStr(b, k), v)
	}
	j.buf = b
	return s.journalWrite(b)
}

// journalSimple writes the records with a group, an optional stream and an
// optional integer (creation time or retention days).
func (s *Server) journalSimple(op byte, groupName, streamName string, n int64) *apiError {
	j := s.store.journal
	if j == nil {
		return nil
	}
	b := append(j.buf[:0], op)
	b = appendStr(b, groupName)
	switch op {
	case jCreateStream:
		b = appendStr(b, streamName)
		b = binary.AppendVarint(b, n)
	case jDeleteStream:
		b = appendStr(b, streamName)
	case jRetention, jProtection:
		b = binary.AppendVarint(b, n)
	}
	j.buf = b
	return s.journalWrite(b)
}

func (s *Server) journalPut(groupName, streamName string, evs []inEvent, ingest int64) *apiError {
	j := s.store.journal
	if j == nil || len(evs) == 0 {
		return nil
	}
	b := append(j.buf[:0], jPut)
	b = appendStr(b, groupName)
	b = appendStr(b, streamName)
	b = binary.AppendVarint(b, ingest)
	b = binary.AppendUvarint(b, uint64(len(evs)))
	for i := range evs {
		b = binary.AppendVarint(b, evs[i].ts)
		b = binary.AppendUvarint(b, uint64(len(evs[i].msg)))
		b = append(b, evs[i].msg...)
	}
	j.buf = b
	return s.journalWrite(b)
}

package tailer

import "time"

// RFC 3339 timestamps of CRI and docker lines, parsed without allocating.

// parseTime parses an RFC 3339 timestamp with an optional fraction of 1 to 9
// digits (containerd trims trailing zeros) and a Z or ±hh:mm offset (CRI-O
// writes +00:00). It does not allocate.
func parseTime(b []byte) (time.Time, bool) {
	var c timeCache
	return c.parse(b)
}

// timeCache remembers the last "2006-01-02T15:04:05" prefix it parsed:
// consecutive lines mostly share it.
type timeCache struct {
	key  [19]byte
	unix int64
	ok   bool
}

// parse is parseTime with the cache.
func (c *timeCache) parse(b []byte) (time.Time, bool) {
	// 2006-01-02T15:04:05Z is the shortest form.
	if len(b) < 20 {
		return time.Time{}, false
	}
	if !c.ok || string(b[:19]) != string(c.key[:]) {
		unix, ok := parseSeconds(b)
		if !ok {
			return time.Time{}, false
		}
		copy(c.key[:], b[:19])
		c.unix, c.ok = unix, true
	}
	i := 19
	nsec := 0
	if b[i] == '.' {
		i++
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if n < 9 {
				nsec = nsec*10 + int(b[i]-'0')
			}
			n++
			i++
		}
		if n == 0 || n > 9 {
			return time.Time{}, false
		}
		for ; n < 9; n++ {
			nsec *= 10
		}
	}
	offset := 0
	switch {
	case i == len(b)-1 && (b[i] == 'Z' || b[i] == 'z'):
	case i == len(b)-6 && (b[i] == '+' || b[i] == '-') && b[i+3] == ':':
		oh, ok1 := digits(b[i+1 : i+3])
		om, ok2 := digits(b[i+4 : i+6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = oh*3600 + om*60
		if b[i] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	return time.Unix(c.unix-int64(offset), int64(nsec)).UTC(), true
}

// parseSeconds returns the Unix time of the "2006-01-02T15:04:05" at the
// start of b, read as UTC.
func parseSeconds(b []byte) (int64, bool) {
	if b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't') || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 60 {
		return 0, false
	}
	return daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec), true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the number of days since 1970-01-01 of a proleptic
// Gregorian date.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}

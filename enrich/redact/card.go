package redact

// Card numbers: runs of digit groups are cut into windows of whole groups,
// and a window is a card when its digits pass the checks of Builtin's doc.

const (
	minCard, maxCard = 13, 19
	minCardGroup     = 3  // the shortest group in a spaced or dashed number
	maxCardGroups    = 24 // groups looked at in one run
)

// group is a run of digits, b[start:end].
type group struct{ start, end int }

// cards finds card numbers.
func cards(spans []span, b []byte, rule int) []span {
	// A card is at least 13 bytes of digits, spaces and dashes, so it holds
	// one of every 13th byte: look at those only, and around the ones that
	// could be part of a card.
	for p := minCard - 1; p < len(b); p += minCard {
		if !is(b[p], cCard) {
			continue
		}
		l := p
		for l > 0 && is(b[l-1], cCard) {
			l--
		}
		r := run(b, p, cCard)
		if r-l >= minCard {
			spans = cardRun(spans, b, l, r, rule)
		}
		for p+minCard < r {
			p += minCard
		}
	}
	return spans
}

// cardRun appends the cards in b[l:r], bytes of digits, spaces and dashes.
func cardRun(spans []span, b []byte, l, r int, rule int) []span {
	var gs [maxCardGroups]group
	for i := l; i < r; {
		if !is(b[i], cDigit) {
			i++
			continue
		}
		// Collect the groups joined by single spaces or dashes.
		n, digits := 0, 0
		for {
			e := run(b, i, cDigit)
			gs[n] = group{i, e}
			n++
			digits += e - i
			i = e
			if n == len(gs) || e+1 >= r || !is(b[e+1], cDigit) {
				break
			}
			i = e + 1
		}
		if digits >= minCard {
			spans = cardWindows(spans, b, gs[:n], rule)
		}
	}
	return spans
}

// cardWindows appends the card numbers among the groups gs: every window
// of whole groups that is a card, overlapping windows merged. Two readings
// of the same digits ("4008 4111 1111 1111 1111" holds two) are
// both redacted rather than one guessed.
func cardWindows(spans []span, b []byte, gs []group, rule int) []span {
	cur := span{start: -1, rule: rule}
	for s := range gs {
		digits := 0
		for t := s; t < len(gs); t++ {
			l := gs[t].end - gs[t].start
			if t > s && (l < minCardGroup || gs[s].end-gs[s].start < minCardGroup) {
				break
			}
			if digits += l; digits > maxCard {
				break
			}
			if digits < minCard {
				continue
			}
			if s == 0 && !cardEdgeBefore(b, gs[0].start) || t == len(gs)-1 && !cardEdgeAfter(b, gs[t].end) {
				continue
			}
			if !isCard(b, gs[s:t+1]) {
				continue
			}
			if cur.start >= 0 && gs[s].start < cur.end {
				cur.end = max(cur.end, gs[t].end)
				continue
			}
			if cur.start >= 0 {
				spans = append(spans, cur)
			}
			cur.start, cur.end = gs[s].start, gs[t].end
		}
	}
	if cur.start >= 0 {
		spans = append(spans, cur)
	}
	return spans
}

// cardEdgeBefore tells whether a card may start at b[i]: not after a word
// byte or a decimal point.
func cardEdgeBefore(b []byte, i int) bool {
	return !wordBefore(b, i) && !(i >= 2 && b[i-1] == '.' && is(b[i-2], cDigit))
}

// cardEdgeAfter tells whether a card may end at b[i].
func cardEdgeAfter(b []byte, i int) bool {
	return !wordAt(b, i) && !(i+1 < len(b) && b[i] == '.' && is(b[i+1], cDigit))
}

// isCard tells whether the digits of gs (13 to 19) start like a major
// network's card number and pass the Luhn check.
func isCard(b []byte, gs []group) bool {
	var buf [maxCard]byte
	d := buf[:0]
	for _, g := range gs {
		d = append(d, b[g.start:g.end]...)
	}
	switch d[0] {
	case '4', '5', '6':
	case '3':
		if d[1] >= '1' && d[1] <= '3' {
			return false
		}
	case '2':
		p := int(d[0]-'0')*1000 + int(d[1]-'0')*100 + int(d[2]-'0')*10 + int(d[3]-'0')
		if !(2200 <= p && p <= 2204 || 2221 <= p && p <= 2720) {
			return false
		}
	default:
		return false
	}
	return luhn(d)
}

// luhn tells whether the digits d pass the Luhn check.
func luhn(d []byte) bool {
	sum := 0
	for i := range d {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			if n *= 2; n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

package collect

import (
	_ "embed"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
)

// botPatterns is the maintained list of bot user agents; bots.txt says where
// it comes from and how to update it.
//
//go:embed bots.txt
var botPatterns string

// BotDetector flags bots by user agent; its zero value is ready to use. Most patterns are plain text: they
// are found with an index on their first three bytes, one map lookup per
// position of the user agent; patterns with a few alternatives ("[wW]get")
// are expanded into plain texts first. The few real regular expressions run
// one by one, each only when a text it requires occurs. Everything is built on first use; answers are cached per user
// agent (traffic repeats a small set of them), the cache emptied when full.
type BotDetector struct {
	once     sync.Once
	literals map[string][]string // first 3 bytes → patterns
	res      []botRegexp         // the patterns that are not plain text
	mu       sync.Mutex
	cache    map[string]bool
}

const botCacheSize = 8192

func parseBotPatterns(text string) ([]string, error) {
	var out []string
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, err := regexp.Compile(line); err != nil {
			return nil, fmt.Errorf("bots.txt line %d: %w", n+1, err)
		}
		out = append(out, line)
	}
	return out, nil
}

// literals returns the finite set of texts a pattern matches when it has
// one: "[wW]get" → wget, Wget; "Ahrefs(Bot|SiteAudit)" → AhrefsBot,
// AhrefsSiteAudit. Anchors, repetitions and large classes have none.
func literals(re *syntax.Regexp) ([]string, bool) {
	const maxExpansion = 64
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if out = append(out, string(r)); len(out) > 4 {
					return nil, false
				}
			}
		}
		return out, true
	case syntax.OpCapture:
		return literals(re.Sub[0])
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			l, ok := literals(sub)
			if !ok || len(out)+len(l) > maxExpansion {
				return nil, false
			}
			out = append(out, l...)
		}
		return out, true
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			l, ok := literals(sub)
			if !ok || len(out)*len(l) > maxExpansion {
				return nil, false
			}
			next := make([]string, 0, len(out)*len(l))
			for _, a := range out {
				for _, b := range l {
					next = append(next, a+b)
				}
			}
			out = next
		}
		return out, true
	}
	return nil, false
}

// requiredText is a piece of text every match of re contains, or "".
func requiredText(re *syntax.Regexp) string {
	if l, ok := literals(re); ok && len(l) == 1 {
		return l[0]
	}
	best := ""
	if re.Op == syntax.OpConcat || re.Op == syntax.OpCapture {
		for _, sub := range re.Sub {
			if t := requiredText(sub); len(t) > len(best) {
				best = t
			}
		}
	}
	return best
}

// botRegexp is a pattern that needs the regular expression engine, with a
// text that must occur for it to match (checked first: it is far cheaper).
type botRegexp struct {
	re       *regexp.Regexp
	required string
}

func (d *BotDetector) compile() {
	d.literals = map[string][]string{}
	d.cache = make(map[string]bool, 256)
	ps, err := parseBotPatterns(botPatterns)
	if err != nil {
		panic(err) // bots.txt is embedded and tested: a bad line is a build mistake
	}
	for _, p := range ps {
		tree, err := syntax.Parse(p, syntax.Perl)
		if err != nil {
			panic(err)
		}
		tree = tree.Simplify()
		if lits, ok := literals(tree); ok && minLen(lits) >= 3 {
			for _, lit := range lits {
				d.literals[lit[:3]] = append(d.literals[lit[:3]], lit)
			}
			continue
		}
		d.res = append(d.res, botRegexp{re: regexp.MustCompile(p), required: requiredText(tree)})
	}
}

func minLen(ss []string) int {
	n := -1
	for _, s := range ss {
		if n < 0 || len(s) < n {
			n = len(s)
		}
	}
	return n
}

func (d *BotDetector) match(ua string) bool {
	for i := 0; i+3 <= len(ua); i++ {
		for _, lit := range d.literals[ua[i:i+3]] {
			if strings.HasPrefix(ua[i:], lit) {
				return true
			}
		}
	}
	for _, r := range d.res {
		if (r.required == "" || strings.Contains(ua, r.required)) && r.re.MatchString(ua) {
			return true
		}
	}
	return false
}

// IsBot says whether a user agent belongs to a bot.
func (d *BotDetector) IsBot(ua string) bool {
	if ua == "" {
		return false
	}
	d.once.Do(d.compile)
	d.mu.Lock()
	v, ok := d.cache[ua]
	d.mu.Unlock()
	if ok {
		return v
	}
	v = d.match(ua)
	d.mu.Lock()
	if len(d.cache) >= botCacheSize {
		clear(d.cache)
	}
	d.cache[ua] = v
	d.mu.Unlock()
	return v
}

package store

import "time"

func normaliseInPlace(r []any) {
	for i, v := range r {
		switch x := v.(type) {
		case time.Time:
			r[i] = utc(x)
		case *time.Time:
			if x == nil {
				r[i] = nil
			} else {
				r[i] = utc(*x)
			}
		}
	}
}

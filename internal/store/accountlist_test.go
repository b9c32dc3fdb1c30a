package store_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/revloop/revloop/internal/store"
	"github.com/revloop/revloop/internal/store/storetest"
)

// TestCountAccountsAgreesWithTheList: the count of the accounts list's
// filters is the number of rows paging through it gives, for each filter
// and their combination, counted by hand on a small set.
func TestCountAccountsAgreesWithTheList(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		err := s.Load(ctx, func(l store.Loader) error {
			if err := l.Insert("users", strings.Split("id,email,role,created_at", ","), [][]any{{int64(1), "a@x.cn", "sales", day0}}); err != nil {
				return err
			}
			var rows [][]any
			for i := range 25 {
				industry, tier := "software", "A"
				if i%3 == 0 {
					industry = "retail"
				}
				if i%5 == 0 {
					tier = "B"
				}
				var owner any
				if i%2 == 0 {
					owner = int64(1)
				}
				rows = append(rows, []any{int64(i + 1), fmt.Sprintf("Acme %02d", i), fmt.Sprintf("acme%02d.cn", i), industry, tier, owner, day0})
			}
			return l.Insert("accounts", strings.Split("id,name,domain,industry,tier,owner_id,created_at", ","), rows)
		})
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			q    store.AccountQuery
			want int64
		}{
			{store.AccountQuery{}, 25},
			{store.AccountQuery{Industry: "retail"}, 9},            // 0, 3, ..., 24
			{store.AccountQuery{Tier: "B"}, 5},                     // 0, 5, ..., 20
			{store.AccountQuery{OwnerID: 1}, 13},                   // the even ones
			{store.AccountQuery{Industry: "retail", Tier: "B"}, 2}, // 0 and 15
			{store.AccountQuery{Q: "acme1"}, 10},                   // acme10.cn ... acme19.cn
			{store.AccountQuery{Q: "Acme 2", OwnerID: 1}, 3},       // 20, 22, 24
			{store.AccountQuery{Industry: "none"}, 0},
		}
		for _, c := range cases {
			n, err := s.CountAccounts(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			// Paging through the list, 4 at a time, finds as many.
			q, listed := c.q, int64(0)
			q.Limit = 4
			for {
				rows, err := s.Accounts(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				listed += int64(len(rows))
				if len(rows) < q.Limit {
					break
				}
				q.AfterName, q.AfterID = rows[len(rows)-1].Name, rows[len(rows)-1].ID
			}
			if n != c.want || listed != c.want {
				t.Errorf("%+v: counted %d, listed %d, want %d", c.q, n, listed, c.want)
			}
		}
	})
}

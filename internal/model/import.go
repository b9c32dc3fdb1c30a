package model

import "time"

// Import is one imported file. A file is recognised by the hash of its
// bytes: importing it again is refused and changes nothing.
type Import struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"` // "costs" or "events"
	FileHash    string    `json:"file_hash"`
	FileName    string    `json:"file_name"`
	Layout      string    `json:"layout"`       // the column layout the file was read with
	RowsRead    int       `json:"rows_read"`    // data rows in the file
	RowsNew     int       `json:"rows_new"`     // rows that added something
	RowsUpdated int       `json:"rows_updated"` // rows that replaced a stored value (costs only)
	RowsSame    int       `json:"rows_same"`    // rows already stored with the same values
	RowsSkipped int       `json:"rows_skipped"` // totals rows and similar, skipped with a note
	CreatedAt   time.Time `json:"created_at"`
}

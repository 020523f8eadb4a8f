package models

import (
	"sync/atomic"

	"gorm.io/gorm"
)

// CheckChannelURL is checkChannelURL, for the tests of package models_test.
var CheckChannelURL = checkChannelURL

// CountQueries counts the statements the store sends while fn runs.
func (s *Store) CountQueries(fn func()) int64 {
	var n atomic.Int64
	count := func(*gorm.DB) { n.Add(1) }
	for _, db := range []*gorm.DB{s.db, s.reader} {
		if db == nil {
			continue
		}
		_ = db.Callback().Query().After("gorm:query").Register("test:count_query", count)
		_ = db.Callback().Row().After("gorm:row").Register("test:count_row", count)
		_ = db.Callback().Raw().After("gorm:raw").Register("test:count_raw", count)
	}
	defer func() {
		for _, db := range []*gorm.DB{s.db, s.reader} {
			if db == nil {
				continue
			}
			_ = db.Callback().Query().Remove("test:count_query")
			_ = db.Callback().Row().Remove("test:count_row")
			_ = db.Callback().Raw().Remove("test:count_raw")
		}
	}()
	fn()
	return n.Load()
}

package models

import "context"

// UserMaySeePage reports whether the user with userID may work on page
// pageID in the admin and, when that page is private, read it as a
// signed-in team member. Every user may see every page today; limiting
// users to some pages changes only this function.
func (s *Store) UserMaySeePage(ctx context.Context, userID, pageID int64) (bool, error) {
	return userID > 0 && pageID > 0, nil
}

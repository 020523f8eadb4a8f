package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// MaxNameLength bounds component and group names.
const MaxNameLength = 100

// Group is a named set of components on a page.
type Group struct {
	ID        int64
	PageID    int64
	Name      string
	Position  int
	Collapsed bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName maps Group to component_groups.
func (Group) TableName() string { return "component_groups" }

// GroupInput is what an admin may set on a group.
type GroupInput struct {
	Name      string
	Collapsed bool
	// Position, when set, is the group's place on the page, 1 for the
	// first; nil leaves it where it is (a new group goes last).
	Position *int
}

func (in *GroupInput) validate() error {
	var v Validator
	checkInput(&v, in)
	in.Name = strings.TrimSpace(in.Name)
	checkName(&v, "name", in.Name)
	return v.Err()
}

func checkName(v *Validator, field, name string) {
	v.Check(name != "", field, "Enter a name.")
	v.Check(len([]rune(name)) <= MaxNameLength, field, fmt.Sprintf("Use at most %d characters.", MaxNameLength))
}

// Groups lists a page's groups in display order.
func (s *Store) Groups(ctx context.Context, pageID int64) ([]Group, error) {
	var gs []Group
	if err := s.conn(ctx).Where("page_id = ?", pageID).Order("position, id").Find(&gs).Error; err != nil {
		return nil, fmt.Errorf("list groups of page %d: %w", pageID, err)
	}
	return gs, nil
}

// Group loads one group.
func (s *Store) Group(ctx context.Context, id int64) (*Group, error) {
	var g Group
	if err := s.conn(ctx).First(&g, id).Error; err != nil {
		return nil, fmt.Errorf("load group %d: %w", id, notFound(err))
	}
	return &g, nil
}

// CreateGroup adds a group at the end of the page.
func (s *Store) CreateGroup(ctx context.Context, pageID int64, in GroupInput) (*Group, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	g := &Group{PageID: pageID, Name: in.Name, Collapsed: in.Collapsed}
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := checkGroupPosition(tx, pageID, 0, in.Position); err != nil {
			return err
		}
		var maxPos int
		if err := tx.Model(&Group{}).Where("page_id = ?", pageID).Select("COALESCE(MAX(position), 0)").Scan(&maxPos).Error; err != nil {
			return err
		}
		g.Position = maxPos + 1
		if err := tx.Create(g).Error; err != nil {
			return err
		}
		if err := audit(ctx, tx, change{PageID: pageID, Action: "group.create", ObjectType: AuditGroup,
			ObjectID: idString(g.ID), Summary: fmt.Sprintf("Created group “%s”.", g.Name), After: groupSnapshot(g)}); err != nil {
			return err
		}
		return placeGroup(ctx, tx, g, in.Position)
	})
	if err != nil {
		return nil, wrapUnlessValidation(err, "create group")
	}
	return g, nil
}

// UpdateGroup changes a group's name and collapsed flag.
func (s *Store) UpdateGroup(ctx context.Context, id int64, in GroupInput) (*Group, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	var g Group
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&g, id).Error; err != nil {
			return notFound(err)
		}
		if err := checkGroupPosition(tx, g.PageID, g.ID, in.Position); err != nil {
			return err
		}
		before := groupSnapshot(&g)
		g.Name, g.Collapsed, g.UpdatedAt = in.Name, in.Collapsed, s.Now()
		if err := tx.Select("name", "collapsed", "updated_at").Save(&g).Error; err != nil {
			return err
		}
		if after := groupSnapshot(&g); after != before || in.Position == nil {
			if err := audit(ctx, tx, change{PageID: g.PageID, Action: "group.update", ObjectType: AuditGroup,
				ObjectID: idString(g.ID), Summary: fmt.Sprintf("Updated group “%s”.", g.Name),
				Before: before, After: after}); err != nil {
				return err
			}
		}
		return placeGroup(ctx, tx, &g, in.Position)
	})
	if err != nil {
		return nil, wrapUnlessValidation(err, fmt.Sprintf("update group %d", id))
	}
	return &g, nil
}

// DeleteGroup removes a group; its components stay, ungrouped.
func (s *Store) DeleteGroup(ctx context.Context, id int64) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		var g Group
		if err := tx.First(&g, id).Error; err != nil {
			return notFound(err)
		}
		res := tx.Delete(&Group{}, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		// Its components join the ungrouped ones, and the groups after
		// it move up: close the gaps.
		if err := renumberComponents(tx, g.PageID, nil); err != nil {
			return err
		}
		groups, err := groupOrder(tx, g.PageID)
		if err != nil {
			return err
		}
		if err := renumber(tx, &Group{}, groups); err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: g.PageID, Action: "group.delete", ObjectType: AuditGroup,
			ObjectID: idString(g.ID), Summary: fmt.Sprintf("Deleted group “%s”; its components are now ungrouped.", g.Name),
			Before: groupSnapshot(&g)})
	})
	if err != nil {
		return fmt.Errorf("delete group %d: %w", id, err)
	}
	return nil
}

// groupOrder lists the ids of a page's groups in display order.
func groupOrder(tx *gorm.DB, pageID int64) ([]int64, error) {
	var ids []int64
	err := tx.Model(&Group{}).Where("page_id = ?", pageID).Order("position, id").Pluck("id", &ids).Error
	return ids, err
}

// checkGroupPosition refuses a place outside the page's groups; selfID
// is the group being changed (0 for a new one).
func checkGroupPosition(tx *gorm.DB, pageID, selfID int64, position *int) error {
	if position == nil {
		return nil
	}
	ids, err := groupOrder(tx, pageID)
	if err != nil {
		return err
	}
	places := len(ids) + 1
	if slices.Contains(ids, selfID) {
		places--
	}
	var v Validator
	checkPosition(&v, *position, places)
	return v.Err()
}

// placeGroup puts g at position on its page when it is set, with an
// audit entry when the place changed.
func placeGroup(ctx context.Context, tx *gorm.DB, g *Group, position *int) error {
	if position == nil {
		return nil
	}
	ids, err := groupOrder(tx, g.PageID)
	if err != nil {
		return err
	}
	from, err := placeAt(tx, &Group{}, ids, g.ID, *position)
	if err != nil {
		return err
	}
	g.Position = *position
	if from == *position {
		return nil
	}
	return audit(ctx, tx, change{PageID: g.PageID, Action: "group.move", ObjectType: AuditGroup,
		ObjectID: idString(g.ID), Summary: fmt.Sprintf("Moved group “%s” to position %d.", g.Name, *position),
		Before: auditPosition{from}, After: auditPosition{*position}})
}

// MoveGroup moves a group one place up (delta < 0) or down (delta > 0).
func (s *Store) MoveGroup(ctx context.Context, id int64, delta int) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		var g Group
		if err := tx.First(&g, id).Error; err != nil {
			return notFound(err)
		}
		var siblings []Group
		if err := tx.Where("page_id = ?", g.PageID).Order("position, id").Find(&siblings).Error; err != nil {
			return err
		}
		ids := make([]int64, len(siblings))
		for i, sib := range siblings {
			ids[i] = sib.ID
		}
		from, to, err := reposition(tx, &Group{}, ids, id, delta)
		if err != nil || from == to {
			return err
		}
		return audit(ctx, tx, change{PageID: g.PageID, Action: "group.move", ObjectType: AuditGroup,
			ObjectID: idString(g.ID), Summary: fmt.Sprintf("Moved group “%s” %s.", g.Name, direction(delta)),
			Before: auditPosition{from}, After: auditPosition{to}})
	})
	if err != nil {
		return fmt.Errorf("move group %d: %w", id, err)
	}
	return nil
}

// reposition swaps id with its neighbour in ordered ids and rewrites the
// positions 1..n, which also heals gaps left by deletions. It returns the
// place (1..n) id had and has; equal when it was already at the end.
func reposition(tx *gorm.DB, model any, ids []int64, id int64, delta int) (from, to int, err error) {
	idx := -1
	for i, v := range ids {
		if v == id {
			idx = i
		}
	}
	if idx < 0 {
		return 0, 0, ErrNotFound
	}
	target := idx + delta
	if target < 0 || target >= len(ids) {
		return idx + 1, idx + 1, nil
	}
	ids[idx], ids[target] = ids[target], ids[idx]
	for i, v := range ids {
		if err := tx.Model(model).Where("id = ?", v).Update("position", i+1).Error; err != nil {
			return 0, 0, err
		}
	}
	return idx + 1, target + 1, nil
}

// direction names a move for people.
func direction(delta int) string {
	if delta < 0 {
		return "up"
	}
	return "down"
}

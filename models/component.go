package models

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// MaxDescriptionLength bounds a component's description.
const MaxDescriptionLength = 500

// Component is one service shown on a status page.
type Component struct {
	ID          int64
	PageID      int64
	GroupID     *int64
	Name        string
	Description string
	Position    int
	Visible     bool
	Status      ComponentStatus
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ComponentInput is what an admin may set on a component.
type ComponentInput struct {
	Name        string
	Description string `text:"multiline"`
	GroupID     *int64
	Visible     bool
	Status      ComponentStatus
	// Position, when set, is the component's place within its group, 1
	// for the first. Nil leaves it where it is, or puts it last when it
	// is new or changes group.
	Position *int
}

// validateComponent checks in for a component of pageID; selfID is the
// component being changed (0 for a new one), which does not count
// against the places of its group.
func (s *Store) validateComponent(tx *gorm.DB, pageID, selfID int64, in *ComponentInput) error {
	var v Validator
	checkInput(&v, in)
	in.Name = strings.TrimSpace(in.Name)
	in.Description = strings.TrimSpace(in.Description)
	checkName(&v, "name", in.Name)
	v.Check(len([]rune(in.Description)) <= MaxDescriptionLength, "description",
		fmt.Sprintf("Use at most %d characters.", MaxDescriptionLength))
	v.Check(in.Status.Valid(), "status", "Choose one of the listed statuses.")
	if in.GroupID != nil {
		var n int64
		if err := tx.Model(&Group{}).Where("id = ? AND page_id = ?", *in.GroupID, pageID).Count(&n).Error; err != nil {
			return err
		}
		v.Check(n == 1, "group_id", "That group does not exist any more. Choose another.")
	}
	if in.Position != nil && v.Err() == nil {
		ids, err := componentOrder(tx, pageID, in.GroupID)
		if err != nil {
			return err
		}
		places := len(ids) + 1
		if slices.Contains(ids, selfID) {
			places--
		}
		checkPosition(&v, *in.Position, places)
	}
	return v.Err()
}

// checkPosition refuses a place outside 1..places.
func checkPosition(v *Validator, position, places int) {
	v.Check(position >= 1 && position <= places, "position",
		fmt.Sprintf("Use a position from 1 to %d.", places))
}

// componentOrder lists the ids of a group's components (groupID nil: the
// ungrouped ones) in display order.
func componentOrder(tx *gorm.DB, pageID int64, groupID *int64) ([]int64, error) {
	q := tx.Model(&Component{}).Where("page_id = ?", pageID)
	if groupID == nil {
		q = q.Where("group_id IS NULL")
	} else {
		q = q.Where("group_id = ?", *groupID)
	}
	var ids []int64
	err := q.Order("position, id").Pluck("id", &ids).Error
	return ids, err
}

// placeAt moves id to place position (1-based) in ordered ids and
// rewrites the positions 1..n. It returns the place id had.
func placeAt(tx *gorm.DB, model any, ids []int64, id int64, position int) (int, error) {
	from := slices.Index(ids, id)
	if from < 0 {
		return 0, ErrNotFound
	}
	ids = slices.Delete(ids, from, from+1)
	ids = slices.Insert(ids, position-1, id)
	for i, v := range ids {
		if err := tx.Model(model).Where("id = ?", v).Update("position", i+1).Error; err != nil {
			return 0, err
		}
	}
	return from + 1, nil
}

// renumberComponents closes the gaps a component leaves in its group's
// positions when it moves to another group or is deleted.
func renumberComponents(tx *gorm.DB, pageID int64, groupID *int64) error {
	ids, err := componentOrder(tx, pageID, groupID)
	if err != nil {
		return err
	}
	return renumber(tx, &Component{}, ids)
}

// renumber writes the positions 1..n of ordered ids where they differ.
func renumber(tx *gorm.DB, model any, ids []int64) error {
	for i, v := range ids {
		if err := tx.Model(model).Where("id = ? AND position <> ?", v, i+1).Update("position", i+1).Error; err != nil {
			return err
		}
	}
	return nil
}

// placeComponent puts c at in.Position within its group when it is set,
// with an audit entry when the place changed.
func placeComponent(ctx context.Context, tx *gorm.DB, c *Component, position *int) error {
	if position == nil {
		return nil
	}
	ids, err := componentOrder(tx, c.PageID, c.GroupID)
	if err != nil {
		return err
	}
	from, err := placeAt(tx, &Component{}, ids, c.ID, *position)
	if err != nil {
		return err
	}
	c.Position = *position
	if from == *position {
		return nil
	}
	return audit(ctx, tx, change{PageID: c.PageID, Action: "component.move", ObjectType: AuditComponent,
		ObjectID: idString(c.ID), Summary: fmt.Sprintf("Moved component “%s” to position %d.", c.Name, *position),
		Before: auditPosition{from}, After: auditPosition{*position}})
}

// Components lists a page's components, ungrouped first, then by group and
// position.
func (s *Store) Components(ctx context.Context, pageID int64) ([]Component, error) {
	var cs []Component
	err := s.conn(ctx).
		Select("components.*").
		Joins("LEFT JOIN component_groups g ON g.id = components.group_id").
		Where("components.page_id = ?", pageID).
		Order("COALESCE(g.position, 0), components.position, components.id").
		Find(&cs).Error
	if err != nil {
		return nil, fmt.Errorf("list components of page %d: %w", pageID, err)
	}
	return cs, nil
}

// Component loads one component.
func (s *Store) Component(ctx context.Context, id int64) (*Component, error) {
	var c Component
	if err := s.conn(ctx).First(&c, id).Error; err != nil {
		return nil, fmt.Errorf("load component %d: %w", id, notFound(err))
	}
	return &c, nil
}

func nextComponentPosition(tx *gorm.DB, pageID int64, groupID *int64) (int, error) {
	q := tx.Model(&Component{}).Where("page_id = ?", pageID)
	if groupID == nil {
		q = q.Where("group_id IS NULL")
	} else {
		q = q.Where("group_id = ?", *groupID)
	}
	var maxPos int
	if err := q.Select("COALESCE(MAX(position), 0)").Scan(&maxPos).Error; err != nil {
		return 0, err
	}
	return maxPos + 1, nil
}

// CreateComponent adds a component at the end of its group and records its
// first status in the history.
func (s *Store) CreateComponent(ctx context.Context, pageID int64, in ComponentInput) (*Component, error) {
	var c *Component
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := s.validateComponent(tx, pageID, 0, &in); err != nil {
			return err
		}
		pos, err := nextComponentPosition(tx, pageID, in.GroupID)
		if err != nil {
			return err
		}
		c = &Component{PageID: pageID, GroupID: in.GroupID, Name: in.Name, Description: in.Description,
			Position: pos, Visible: in.Visible, Status: in.Status}
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		if err := recordStatusChange(tx, c.ID, "", c.Status, SourceManual, nil, c.CreatedAt); err != nil {
			return err
		}
		if err := addEvent(tx, pageID, EventComponentCreated, ComponentData{ID: c.ID, Name: c.Name,
			NewStatus: string(c.Status), UptimePercent: 100}, c.CreatedAt); err != nil {
			return err
		}
		if err := audit(ctx, tx, change{PageID: pageID, Action: "component.create", ObjectType: AuditComponent,
			ObjectID: idString(c.ID), Summary: fmt.Sprintf("Created component “%s” (%s).", c.Name, c.Status.Label()),
			After: componentSnapshot(c)}); err != nil {
			return err
		}
		return placeComponent(ctx, tx, c, in.Position)
	})
	if err != nil {
		return nil, wrapUnlessValidation(err, "create component")
	}
	return c, nil
}

// UpdateComponent changes a component's settings; a status change is
// recorded in the history as manual.
func (s *Store) UpdateComponent(ctx context.Context, id int64, in ComponentInput) (*Component, error) {
	var c Component
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&c, id).Error; err != nil {
			return notFound(err)
		}
		if err := s.validateComponent(tx, c.PageID, c.ID, &in); err != nil {
			return err
		}
		before := componentSnapshot(&c)
		oldGroup, moved := c.GroupID, !sameGroup(c.GroupID, in.GroupID)
		if moved {
			pos, err := nextComponentPosition(tx, c.PageID, in.GroupID)
			if err != nil {
				return err
			}
			c.Position = pos
		}
		c.Name, c.Description, c.GroupID, c.Visible = in.Name, in.Description, in.GroupID, in.Visible
		c.UpdatedAt = s.Now()
		if err := tx.Select("name", "description", "group_id", "visible", "position", "updated_at").Save(&c).Error; err != nil {
			return err
		}
		if moved {
			if err := renumberComponents(tx, c.PageID, oldGroup); err != nil {
				return err
			}
		}
		if _, err := s.setComponentStatus(tx, &c, in.Status, SourceManual, nil); err != nil {
			return err
		}
		if after := componentSnapshot(&c); !reflect.DeepEqual(after, before) || in.Position == nil {
			if err := audit(ctx, tx, change{PageID: c.PageID, Action: "component.update", ObjectType: AuditComponent,
				ObjectID: idString(c.ID), Summary: fmt.Sprintf("Updated component “%s”.", c.Name),
				Before: before, After: after}); err != nil {
				return err
			}
		}
		return placeComponent(ctx, tx, &c, in.Position)
	})
	if err != nil {
		return nil, wrapUnlessValidation(err, fmt.Sprintf("update component %d", id))
	}
	return &c, nil
}

func sameGroup(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// SetComponentStatus changes only the status, recording the change with its
// source; it reports whether anything changed.
func (s *Store) SetComponentStatus(ctx context.Context, id int64, status ComponentStatus, source StatusSource, sourceID *int64) (bool, error) {
	if !status.Valid() {
		return false, &ValidationError{Fields: map[string]string{"status": "Choose one of the listed statuses."}}
	}
	var changed bool
	err := s.write(ctx, func(tx *gorm.DB) error {
		var c Component
		if err := tx.First(&c, id).Error; err != nil {
			return notFound(err)
		}
		old := c.Status
		var err error
		changed, err = s.setComponentStatus(tx, &c, status, source, sourceID)
		if err != nil || !changed {
			return err
		}
		return audit(ctx, tx, change{PageID: c.PageID, Action: "component.status", ObjectType: AuditComponent,
			ObjectID: idString(c.ID), Summary: fmt.Sprintf("Set “%s” from %s to %s.", c.Name, old.Label(), status.Label()),
			Before: map[string]ComponentStatus{"status": old}, After: map[string]ComponentStatus{"status": status}})
	})
	if err != nil {
		return false, fmt.Errorf("set status of component %d: %w", id, err)
	}
	return changed, nil
}

// setComponentStatus is the one place a component's status changes, so the
// history row (and, later, the outbox event) can never be forgotten.
func (s *Store) setComponentStatus(tx *gorm.DB, c *Component, status ComponentStatus, source StatusSource, sourceID *int64) (bool, error) {
	if c.Status == status {
		return false, nil
	}
	old := c.Status
	now := s.Now()
	if err := tx.Model(&Component{}).Where("id = ?", c.ID).
		Updates(map[string]any{"status": status, "updated_at": now}).Error; err != nil {
		return false, err
	}
	c.Status, c.UpdatedAt = status, now
	if err := recordStatusChange(tx, c.ID, old, status, source, sourceID, now); err != nil {
		return false, err
	}
	uptime, err := s.uptimePercent(tx, c.ID, now)
	if err != nil {
		return false, err
	}
	err = addEvent(tx, c.PageID, EventComponentStatusChanged, ComponentData{ID: c.ID, Name: c.Name,
		PreviousStatus: string(old), NewStatus: string(status), UptimePercent: uptime}, now)
	return err == nil, err
}

// DeleteComponent removes a component and its history.
func (s *Store) DeleteComponent(ctx context.Context, id int64) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		var c Component
		if err := tx.First(&c, id).Error; err != nil {
			return notFound(err)
		}
		now := s.Now()
		uptime, err := s.uptimePercent(tx, c.ID, now)
		if err != nil {
			return err
		}
		res := tx.Delete(&Component{}, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if err := renumberComponents(tx, c.PageID, c.GroupID); err != nil {
			return err
		}
		if err := addEvent(tx, c.PageID, EventComponentDeleted, ComponentData{ID: c.ID, Name: c.Name,
			PreviousStatus: string(c.Status), UptimePercent: uptime}, now); err != nil {
			return err
		}
		return audit(ctx, tx, change{PageID: c.PageID, Action: "component.delete", ObjectType: AuditComponent,
			ObjectID: idString(c.ID), Summary: fmt.Sprintf("Deleted component “%s”.", c.Name),
			Before: componentSnapshot(&c)})
	})
	if err != nil {
		return fmt.Errorf("delete component %d: %w", id, err)
	}
	return nil
}

// MoveComponent moves a component one place up (delta < 0) or down
// (delta > 0) within its group.
func (s *Store) MoveComponent(ctx context.Context, id int64, delta int) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		var c Component
		if err := tx.First(&c, id).Error; err != nil {
			return notFound(err)
		}
		q := tx.Model(&Component{}).Where("page_id = ?", c.PageID)
		if c.GroupID == nil {
			q = q.Where("group_id IS NULL")
		} else {
			q = q.Where("group_id = ?", *c.GroupID)
		}
		var ids []int64
		if err := q.Order("position, id").Pluck("id", &ids).Error; err != nil {
			return err
		}
		from, to, err := reposition(tx, &Component{}, ids, id, delta)
		if err != nil || from == to {
			return err
		}
		return audit(ctx, tx, change{PageID: c.PageID, Action: "component.move", ObjectType: AuditComponent,
			ObjectID: idString(c.ID), Summary: fmt.Sprintf("Moved component “%s” %s.", c.Name, direction(delta)),
			Before: auditPosition{from}, After: auditPosition{to}})
	})
	if err != nil {
		return fmt.Errorf("move component %d: %w", id, err)
	}
	return nil
}

// wrapUnlessValidation adds context to err but leaves validation errors
// untouched for the caller to show next to the fields.
func wrapUnlessValidation(err error, action string) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve
	}
	return fmt.Errorf("%s: %w", action, err)
}

package models

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// IncidentTitleInput corrects the title of a published incident.
type IncidentTitleInput struct {
	Title string
	// Notify announces the correction to channels (incident.updated); a
	// typo fix usually does not deserve a second message.
	Notify bool
}

// UpdateMessageInput corrects the message of a posted update.
type UpdateMessageInput struct {
	Message string `text:"multiline"`
	Notify  bool   // as IncidentTitleInput.Notify
}

type auditTitle struct {
	Title string `json:"title"`
}

type auditUpdateMessage struct {
	UpdateID int64  `json:"update_id"`
	Message  string `json:"message"`
}

// EditIncidentTitle corrects an incident's title and marks it edited, in
// one transaction with its audit row and, when in.Notify is set and the
// incident is not back-filled, an incident.updated event. The same title
// again changes nothing and records nothing.
func (s *Store) EditIncidentTitle(ctx context.Context, id int64, in IncidentTitleInput) (*Incident, error) {
	var v Validator
	checkInput(&v, &in)
	in.Title = strings.TrimSpace(in.Title)
	checkText(&v, "title", in.Title, true, MaxTitleLength)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var inc Incident
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&inc, id).Error; err != nil {
			return notFound(err)
		}
		if inc.Title == in.Title {
			return nil
		}
		old, now := inc.Title, s.Now()
		inc.Title, inc.TitleEditedAt, inc.UpdatedAt = in.Title, &now, now
		if err := tx.Select("title", "title_edited_at", "updated_at").Save(&inc).Error; err != nil {
			return err
		}
		if in.Notify && !inc.Backfilled {
			// A correction is for channels ("Notify channels"): it never
			// e-mails the visitors who subscribed.
			if err := s.incidentEvent(quietSubscribers(tx), &inc, EventIncidentUpdated, now); err != nil {
				return err
			}
		}
		return audit(ctx, tx, change{PageID: inc.PageID, Action: "incident.edit", ObjectType: AuditIncident,
			ObjectID: idString(inc.ID), Before: auditTitle{old}, After: auditTitle{inc.Title},
			Summary: fmt.Sprintf("Corrected the title “%s” to “%s”%s.", old, inc.Title, notifiedSuffix(in.Notify && !inc.Backfilled))})
	})
	if err != nil {
		return nil, wrapUnlessValidation(err, fmt.Sprintf("edit title of incident %d", id))
	}
	return &inc, nil
}

// EditIncidentUpdate corrects the message of update updateID of incident
// incidentID and marks it edited; status, time and component statuses of
// the update stay. Audit row and, with in.Notify, an incident.updated
// event carrying the corrected message are written with it. The same
// message again changes nothing and records nothing.
func (s *Store) EditIncidentUpdate(ctx context.Context, incidentID, updateID int64, in UpdateMessageInput) (*IncidentUpdate, error) {
	var v Validator
	checkInput(&v, &in)
	checkText(&v, "message", in.Message, true, MaxMessageLength)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var u IncidentUpdate
	err := s.write(ctx, func(tx *gorm.DB) error {
		var inc Incident
		if err := tx.First(&inc, incidentID).Error; err != nil {
			return notFound(err)
		}
		if err := tx.Preload("Components").Where("incident_id = ?", incidentID).First(&u, updateID).Error; err != nil {
			return notFound(err)
		}
		if u.Message == in.Message {
			return nil
		}
		old, now := u.Message, s.Now()
		if err := tx.Model(&IncidentUpdate{}).Where("id = ?", u.ID).
			Updates(map[string]any{"message": in.Message, "edited_at": now}).Error; err != nil {
			return err
		}
		if err := tx.Model(&Incident{}).Where("id = ?", inc.ID).Update("updated_at", now).Error; err != nil {
			return err
		}
		u.Message, u.EditedAt = in.Message, &now
		notify := in.Notify && !inc.Backfilled
		if notify {
			// For channels only, as a corrected title.
			if err := s.incidentEventWith(quietSubscribers(tx), &inc, EventIncidentUpdated, in.Message, now); err != nil {
				return err
			}
		}
		return audit(ctx, tx, change{PageID: inc.PageID, Action: "incident.edit_update", ObjectType: AuditIncident,
			ObjectID: idString(inc.ID), Before: auditUpdateMessage{u.ID, old}, After: auditUpdateMessage{u.ID, in.Message},
			Summary: fmt.Sprintf("Corrected an update of “%s” posted %s%s.", inc.Title,
				u.CreatedAt.UTC().Format(auditTimeFormat), notifiedSuffix(notify))})
	})
	if err != nil {
		return nil, wrapUnlessValidation(err, fmt.Sprintf("edit update %d of incident %d", updateID, incidentID))
	}
	return &u, nil
}

func notifiedSuffix(notify bool) string {
	if notify {
		return "; channels notified"
	}
	return "; channels not notified"
}

// IncidentPatch is what PATCH changes on an incident: its title and its
// postmortem (nil: unchanged).
type IncidentPatch struct {
	Title      *IncidentTitleInput
	Postmortem *string
}

// PatchIncident applies p in one transaction: the title and the
// postmortem change together or not at all.
func (s *Store) PatchIncident(ctx context.Context, id int64, p IncidentPatch) error {
	return s.InTransaction(ctx, func(ctx context.Context) error {
		if p.Title != nil {
			if _, err := s.EditIncidentTitle(ctx, id, *p.Title); err != nil {
				return err
			}
		}
		if p.Postmortem != nil {
			return s.SetPostmortem(ctx, id, *p.Postmortem)
		}
		return nil
	})
}

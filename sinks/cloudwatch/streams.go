package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// errGroupNotCreated: a log group is missing and AutoCreateGroup is off.
var errGroupNotCreated = errors.New("the log group does not exist and auto_create_group is off")

// ensureStream creates d's stream after a put found it missing, and its
// group when that is missing too and AutoCreateGroup is set. gen is the
// stream's generation when that put was sent: if the stream was created
// since, there is nothing to do. Concurrent callers for one stream share
// one creation, so a stream is created once however many batches find it
// missing at the same time.
func (s *sender) ensureStream(ctx context.Context, d *dest, gen uint64, groupMissing bool) error {
	_, err, _ := s.creates.Do("s\x00"+d.key, func() (any, error) {
		if d.gen.Load() != gen {
			return nil, nil
		}
		if err := s.createStream(ctx, d, groupMissing); err != nil {
			return nil, err
		}
		d.gen.Add(1)
		return nil, nil
	})
	return err
}

func (s *sender) createStream(ctx context.Context, d *dest, groupMissing bool) error {
	create := func() (class, string, error) {
		actx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		defer cancel()
		t0 := time.Now()
		_, err := s.api.CreateLogStream(actx, &cloudwatchlogs.CreateLogStreamInput{
			LogGroupName: aws.String(d.group), LogStreamName: aws.String(d.stream),
		})
		cls, status := classify(err)
		s.observe("CreateLogStream", cls, status, time.Since(t0))
		return cls, status, err
	}
	if groupMissing && s.cfg.AutoCreateGroup {
		// The put said the group is missing: make it first (unless it was
		// made since that put), so that the stream is created with one call.
		if err := s.ensureGroup(ctx, d.group); err != nil {
			return err
		}
	}
	cls, status, err := create()
	if status == codeAlreadyExists || cls == classOK {
		return nil
	}
	if cls != classNotFound {
		return fmt.Errorf("create log stream %s in %s: %w", d.stream, d.group, err)
	}
	if !s.cfg.AutoCreateGroup {
		return fmt.Errorf("log group %s: %w", d.group, errGroupNotCreated)
	}
	s.groups.Delete(d.group)
	if err := s.ensureGroup(ctx, d.group); err != nil {
		return err
	}
	cls, status, err = create()
	if status == codeAlreadyExists || cls == classOK {
		return nil
	}
	return fmt.Errorf("create log stream %s in %s: %w", d.stream, d.group, err)
}

// ensureGroup creates a log group with the configured class, KMS key, tags
// and retention; one creation per group at a time, and none for a group
// known to exist.
func (s *sender) ensureGroup(ctx context.Context, group string) error {
	if _, ok := s.groups.Load(group); ok {
		return nil
	}
	_, err, _ := s.creates.Do("g\x00"+group, func() (any, error) {
		if _, ok := s.groups.Load(group); ok {
			return nil, nil
		}
		actx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		defer cancel()
		in := &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}
		if s.cfg.KMSKeyID != "" {
			in.KmsKeyId = aws.String(s.cfg.KMSKeyID)
		}
		if s.cfg.LogGroupClass != "" {
			in.LogGroupClass = types.LogGroupClass(s.cfg.LogGroupClass)
		}
		if len(s.cfg.Tags) > 0 {
			in.Tags = s.cfg.Tags
		}
		t0 := time.Now()
		_, err := s.api.CreateLogGroup(actx, in)
		cls, status := classify(err)
		s.observe("CreateLogGroup", cls, status, time.Since(t0))
		if status == codeAlreadyExists {
			s.groups.Store(group, struct{}{})
			return nil, nil // someone else made it: leave its settings alone
		}
		if cls != classOK {
			return nil, fmt.Errorf("create log group %s: %w", group, err)
		}
		s.groups.Store(group, struct{}{})
		s.log.Info("created log group", "group", group)
		if s.cfg.RetentionDays > 0 {
			t0 = time.Now()
			_, err := s.api.PutRetentionPolicy(actx, &cloudwatchlogs.PutRetentionPolicyInput{
				LogGroupName: aws.String(group), RetentionInDays: aws.Int32(int32(s.cfg.RetentionDays)),
			})
			cls, status := classify(err)
			s.observe("PutRetentionPolicy", cls, status, time.Since(t0))
			if err != nil {
				// The group exists; shipping goes on. Retention can be set later.
				s.log.Warn("could not set the log group's retention", "group", group, "days", s.cfg.RetentionDays, "err", err)
			}
		}
		return nil, nil
	})
	return err
}

package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/heraldstatus/herald/models"
	"github.com/heraldstatus/herald/web"
)

// The team on the command line, for scripted installs and the locked-out:
// herald user create|list|reset-password|reset-2fa, and herald admin
// create, the shorthand for an admin.

const (
	usageUserCreate   = "usage: herald user create --email E --role viewer|operator|admin --password-stdin"
	usageAdminCreate  = "usage: herald admin create --email E --password-stdin"
	usageUserList     = "usage: herald user list"
	usageUserPassword = "usage: herald user reset-password --email E --password-stdin"
	usageUser2FA      = "usage: herald user reset-2fa --email E"
	usageUser         = "usage: herald user create|list|reset-password|reset-2fa [flags]"
)

// commandLine is the actor of changes made from the command line: the
// audit log says so.
var commandLine = models.Actor{Type: models.ActorSystem, Name: "command line"}

// userFlags are a user subcommand's flags: those it names, and the
// configuration flags serve takes, so it finds the same database.
type userFlags struct {
	fs        *flag.FlagSet
	email     *string
	role      *string
	fromStdin *bool
	load      func() (web.Config, error)
}

func newUserFlags(name string, stderr io.Writer, getenv func(string) string, withRole, withPassword bool) userFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := userFlags{fs: fs, email: fs.String("email", "", "the user's e-mail address")}
	if withRole {
		f.role = fs.String("role", "", "viewer, operator or admin")
	}
	if withPassword {
		f.fromStdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	}
	f.load = web.ConfigFlags(fs, getenv)
	return f
}

func user(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return errors.New(usageUser)
	}
	switch args[0] {
	case "create":
		return createUser(args[1:], "", stdin, stdout, stderr, getenv)
	case "list":
		return listUsers(args[1:], stdout, stderr, getenv)
	case "reset-password":
		return resetPassword(args[1:], stdin, stdout, stderr, getenv)
	case "reset-2fa":
		return resetTwoFactor(args[1:], stdout, stderr, getenv)
	}
	return fmt.Errorf("unknown command \"user %s\"; %s", args[0], usageUser)
}

func admin(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New(usageAdminCreate)
	}
	return createUser(args[1:], models.RoleAdmin, stdin, stdout, stderr, getenv)
}

// createUser is "user create", and "admin create" when role is given.
func createUser(args []string, role models.Role, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	name, usage := "herald user create", usageUserCreate
	if role != "" {
		name, usage = "herald admin create", usageAdminCreate
	}
	f := newUserFlags(name, stderr, getenv, role == "", true)
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	if *f.email == "" || !*f.fromStdin || f.fs.NArg() > 0 || (role == "" && *f.role == "") {
		return errors.New(usage)
	}
	if role == "" {
		var err error
		if role, err = models.ParseRole(*f.role); err != nil {
			return err
		}
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	password, err := readPassword(stdin)
	if err != nil {
		return err
	}
	store, err := openStore(cfg, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	u, err := store.CreateUser(models.WithActor(context.Background(), commandLine),
		models.UserInput{Email: *f.email, Password: password, Role: role})
	if err != nil {
		return commandError(err)
	}
	fmt.Fprintf(stdout, "%s %s created (id %d)\n", role, u.Email, u.ID)
	return nil
}

func listUsers(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	f := newUserFlags("herald user list", stderr, getenv, false, false)
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	if *f.email != "" || f.fs.NArg() > 0 {
		return errors.New(usageUserList)
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	store, err := openStore(cfg, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	users, err := store.Users(context.Background())
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tE-MAIL\tROLE\t2FA\tLAST SIGN-IN")
	for _, u := range users {
		twoFactor, last := "off", "never"
		if u.TwoFactor() {
			twoFactor = "on"
		}
		if u.LastSignInAt != nil {
			last = u.LastSignInAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Role, twoFactor, last)
	}
	return w.Flush()
}

func resetPassword(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	f := newUserFlags("herald user reset-password", stderr, getenv, false, true)
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	if *f.email == "" || !*f.fromStdin || f.fs.NArg() > 0 {
		return errors.New(usageUserPassword)
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	password, err := readPassword(stdin)
	if err != nil {
		return err
	}
	store, err := openStore(cfg, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := models.WithActor(context.Background(), commandLine)
	u, err := findUser(ctx, store, *f.email)
	if err != nil {
		return err
	}
	ended, err := store.ResetPassword(ctx, u.ID, password)
	if err != nil {
		return commandError(err)
	}
	fmt.Fprintf(stdout, "password of %s reset; %d %s ended\n", u.Email, ended, plural(ended, "session", "sessions"))
	return nil
}

func resetTwoFactor(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	f := newUserFlags("herald user reset-2fa", stderr, getenv, false, false)
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	if *f.email == "" || f.fs.NArg() > 0 {
		return errors.New(usageUser2FA)
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	store, err := openStore(cfg, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := models.WithActor(context.Background(), commandLine)
	u, err := findUser(ctx, store, *f.email)
	if err != nil {
		return err
	}
	if err := store.ResetTwoFactor(ctx, u.ID); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "two-factor sign-in of %s reset; they sign in with their password and can enrol again\n", u.Email)
	return nil
}

// openStore opens and migrates the configured database.
func openStore(cfg web.Config, stderr io.Writer) (*models.Store, error) {
	_, _, store, err := open(context.Background(), cfg, stderr, nil)
	return store, err
}

func findUser(ctx context.Context, store *models.Store, email string) (*models.User, error) {
	u, err := store.UserByEmail(ctx, email)
	if errors.Is(err, models.ErrNotFound) {
		return nil, fmt.Errorf("no user has the e-mail address %q", models.NormalizeEmail(email))
	}
	return u, err
}

// readPassword reads the first line of standard input.
func readPassword(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// commandError turns a validation error into one line, "field: message;
// …", in a stable order.
func commandError(err error) error {
	var ve *models.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	var msgs []string
	for f, m := range ve.Fields {
		msgs = append(msgs, f+": "+m)
	}
	sort.Strings(msgs)
	return errors.New(strings.Join(msgs, "; "))
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

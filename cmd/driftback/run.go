package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/driftback/driftback/capture"
	"github.com/driftback/driftback/capture/live"
	"github.com/driftback/driftback/follow"
	"github.com/driftback/driftback/kube"
	"github.com/driftback/driftback/overlay"
	"github.com/driftback/driftback/restore"
	"github.com/driftback/driftback/writeback"
)

func newRunCmd(g *globalFlags) *cobra.Command {
	cf := &configFlags{}
	var (
		opts        live.ControllerOptions
		metricsAddr string
		pprofAddr   string
		msgFlags    messageFlags
		startup     startupFlags
		following   follow.Options
		election    leaderFlags
		prf         prFlags
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Watch the cluster and keep the Git branch equal to its runtime state",
		Long: `run watches every kind the rules match (kinds added later included), and
after each burst of changes (--debounce) commits the overlay when the captured
state changed. Safety refusals (another cluster's branch, mass deletion, an
overlay that does not build) are logged, counted in metrics and retried; run
keeps going. See docs/run.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cf.load()
			if err != nil {
				return err
			}
			if cf.opts.Message, err = msgFlags.template(cfg); err != nil {
				return err
			}
			if cf.opts.Signer, err = cf.git.creds.Signer(); err != nil {
				return err
			}
			// SOPS_AGE_KEY_FILE: unchanged encrypted files keep their bytes, restore-on-start decrypts.
			if cf.opts.Identities, err = restore.LoadIdentities(""); err != nil {
				return err
			}
			rc, err := g.restConfig()
			if err != nil {
				return err
			}
			cl, err := live.NewCluster(rc)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			uid, err := cl.Identity(ctx)
			if err != nil {
				return err
			}
			repo, err := openRepo(cfg.Git.URL, &cf.git, cfg.Git.AllowInsecureHTTP)
			if err != nil {
				return err
			}
			keys, err := loadTrustedKeys(startup.verifyKeys)
			if err != nil {
				return err
			}
			prCfg, err := prf.apply(cmd.Flags(), cfg, cf.git.creds.AllowInsecureHTTP)
			if err != nil {
				return err
			}
			prs, err := writeback.NewProposer(cfg, prCfg)
			if err != nil {
				return err
			}
			lead := kube.NewLeadership(election.enabled)
			w := writeback.New(cfg, repo, uid, cf.opts)
			wm := writeback.NewMetrics()
			// Before the controller: its work queue takes the metrics
			// provider when it is made.
			kube.ClientMetrics()
			var ctl *live.Controller
			ctl = cl.NewController(cfg.Rules, func(ctx context.Context, caps []*capture.Packed, unlisted []live.Unlisted) error {
				if !lead.Active() {
					// A standby drops the captures: the leader's publish has them all.
					slog.Debug("standby: not publishing", "objects", len(caps))
					return nil
				}
				// The kinds that could not be listed are carried over from
				// the branch as they are: their absence is not a deletion.
				var carry []string
				for _, u := range unlisted {
					carry = append(carry, overlay.KindDir(u.Resource.GVR.Group, u.Resource.Kind))
				}
				committed, err := w.Unattended(ctx, caps, ctl.Changes(), carry, ctl.OldestChange(), wm)
				if committed {
					// After the push: the pull request is the reviewers' view,
					// synced in the background; it never fails this publish.
					prs.Submit(ctx, repo, uid)
				}
				return err
			}, opts)
			fm := follow.NewMetrics()
			go prs.Run(ctx)
			stopServer, err := serveProbes(metricsAddr, ctl.Ready,
				func() string { return ctl.UnlistedDetail() + lead.Detail() },
				slices.Concat(ctl.Collectors(), wm.Collectors(), repo.Collectors(), fm.Collectors(), prs.Collectors(), []prometheus.Collector{lead.Collector()})...)
			if err != nil {
				return err
			}
			defer stopServer()
			stopPprof, _, err := servePprof(pprofAddr)
			if err != nil {
				return err
			}
			defer stopPprof()
			// The side branch follows its base from the start, also while
			// the start-up restore runs or the branch waits for adoption.
			// When its overlay no longer builds on a new base, the
			// captures are published again over it (ctl.Trigger).
			stopFollow, err := follow.Start(ctx, repo, writeback.Target(cfg), following, fm, lead.Active, ctl.Trigger)
			if err != nil {
				return err
			}
			defer stopFollow()
			// The election outlives ctx until run returns, so the leader
			// flushes its last changes before it hands over the Lease.
			leCtx, stopElection := context.WithCancel(context.WithoutCancel(ctx))
			defer stopElection()
			if election.opts.Name == "" {
				// One Lease per Deployment: a shard's is driftback-<cluster>-<shard>.
				election.opts.Name = cfg.LeaseName()
			}
			if err := lead.Campaign(leCtx, rc, cfg.Cluster, election.opts, ctl.Trigger); err != nil {
				return err
			}
			// A rebuilt cluster: restore first, capture only once adopted.
			// Health is served meanwhile; readiness waits for the watch.
			rcl, err := restore.NewCluster(rc)
			if err != nil {
				return err
			}
			if err := w.AwaitAdoption(ctx, cmd.OutOrStdout(), writeback.Startup{
				RestoreOnStart: startup.restoreOnStart, AdoptionPoll: startup.adoptionPoll,
				Restore:     writeback.ClusterRestore(rcl, startup.restoreWait, cfg.Rules),
				TrustedKeys: keys, Unverified: startup.unverified,
			}); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return nil
			}
			return ctl.Run(ctx)
		},
	}
	f := cmd.Flags()
	cf.register(f)
	startup.addFlags(f)
	prf.addFlags(f)
	f.StringVar(&msgFlags.templateText, "message-template", "", "Go text/template for commit messages (overrides git.messageTemplate; see docs/gitsync.md)")
	f.DurationVar(&opts.Debounce, "debounce", 5*time.Second, "collect changes this long after the first one, then make one commit")
	f.DurationVar(&opts.Rediscover, "rediscover", time.Minute, "refresh API discovery this often to follow kinds that appear or vanish (a CRD watch triggers it sooner)")
	f.DurationVar(&opts.FlushTimeout, "flush-timeout", 20*time.Second, "on SIGTERM, time allowed to write the last pending changes")
	f.StringVar(&metricsAddr, "metrics-addr", ":8080", "address serving /metrics, /healthz and /readyz")
	f.StringVar(&pprofAddr, "pprof-addr", "", "address serving Go's CPU and heap profiles at /debug/pprof/, e.g. 127.0.0.1:6060 (off when empty)")
	addFollowFlags(f, &following)
	election.addFlags(f)
	f.DurationVar(&opts.SyncTimeout, "sync-timeout", time.Minute, "how long a resource that cannot be listed (a CRD whose conversion webhook is down) may hold back publishing; after it the other resources are published and its recorded files kept")
	return cmd
}

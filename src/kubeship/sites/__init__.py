"""Several sites (data centres or clusters) serving one app: traffic classes and weights, per-site
sizing and overlays, Karmada policies, the global proxy's configuration, failover rehearsal."""

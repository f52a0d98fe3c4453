"""Remote probe agents: locations, their keys, the results they send and the quorum of
locations a component's status follows (docs/probes.md, "Agents")."""

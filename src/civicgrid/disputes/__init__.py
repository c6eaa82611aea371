"""Disputes (矛盾纠纷): dispute records beside their cases, parties, mediation, outcomes, the one-stop desk."""

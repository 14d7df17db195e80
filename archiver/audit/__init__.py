"""Citation audit: the publisher registry, the rules, the stage that runs them at report time."""

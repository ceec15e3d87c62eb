"""Stories: articles about one event, across outlets (issue 12).

``cluster`` groups articles incrementally; ``metrics`` scores a grouping against labels;
``evaluate`` chooses thresholds by k-fold cross-validation on a labelled set.
"""

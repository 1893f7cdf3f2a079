class DaskFMRegressor: pass

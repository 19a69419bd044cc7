library(testthat)
library(selfsup)
test_check("selfsup")

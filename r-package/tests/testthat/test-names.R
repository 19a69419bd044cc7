# Exported names: none may mask a function of base R or of the packages R attaches by default.

default_packages <- c("base", "methods", "datasets", "utils", "grDevices", "graphics", "stats")

test_that("no export masks base R or a package attached by default", {
  ours <- getNamespaceExports("selfsup")
  theirs <- unlist(lapply(default_packages, function(p) {
    env <- if (paste0("package:", p) %in% search()) as.environment(paste0("package:", p)) else asNamespace(p)
    names <- if (p == "base") ls(baseenv(), all.names = TRUE) else ls(env, all.names = TRUE)
    stats::setNames(names, rep(p, length(names)))
  }))
  clashes <- theirs[theirs %in% ours]
  expect_identical(unname(clashes), character(0),
                   info = paste(sprintf("%s::%s", names(clashes), clashes), collapse = ", "))
})

test_that("library(selfsup) prints no masking message and R's kmeans() and embed() still work", {
  rscript <- file.path(R.home("bin"), "Rscript")
  code <- paste("library(selfsup)",
                "km <- kmeans(iris[, 1:4], centers = 3); stopifnot(length(km$cluster) == 150)",
                "stopifnot(identical(dim(embed(1:10, 3)), c(8L, 3L)))", "cat('ok\\n')", sep = "; ")
  out <- suppressWarnings(system2(rscript, c("--vanilla", "-e", shQuote(code)), stdout = TRUE, stderr = TRUE,
                                  env = paste0("R_LIBS=", paste(.libPaths(), collapse = ":"))))
  expect_identical(out, "ok", info = paste(out, collapse = "\n"))
})

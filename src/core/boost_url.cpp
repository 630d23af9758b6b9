// Boost.URL's compiled part, built here from the headers of libboost1.81-dev, so that no
// separate Boost library package is needed (docs/decisions/0015-boost-url-header-only.md).
#include <boost/url/src.hpp>

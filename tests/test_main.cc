// The one Boost.Test runner: every tests/*_test.cc suite links into it.
#define BOOST_TEST_MODULE misdirect
#include <boost/test/unit_test.hpp>
